import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import os from "node:os";

// The machine and commit a report describes.

const ROOT = join(import.meta.dir, "../..");

export interface MachineInfo {
  cpu: string;
  cores: number;
  memoryGb: number;
  kernel: string;
  bun: string;
  commit: string;
}

export function machineInfo(): MachineInfo {
  let cpu = os.cpus()[0]?.model ?? "unknown CPU";
  try {
    cpu = /model name\s*:\s*(.+)/.exec(readFileSync("/proc/cpuinfo", "utf8"))?.[1]?.trim() ?? cpu;
  } catch {
    // not Linux
  }
  return {
    cpu,
    cores: navigator.hardwareConcurrency,
    memoryGb: Math.round(os.totalmem() / 2 ** 30),
    kernel: `${os.type()} ${os.release()}`,
    bun: Bun.version,
    commit: gitCommit(),
  };
}

function gitCommit(): string {
  const head = Bun.spawnSync(["git", "rev-parse", "--short", "HEAD"], { cwd: ROOT, stderr: "ignore" });
  if (head.exitCode !== 0) return "unknown";
  const dirty = Bun.spawnSync(["git", "status", "--porcelain", "--untracked-files=no"], { cwd: ROOT, stderr: "ignore" });
  return head.stdout.toString().trim() + (dirty.stdout.toString().trim() ? " (uncommitted changes)" : "");
}

/**
 * Bytes the topic's log segments take on disk across every replica, read from the local cluster's
 * data directories (deploy/local/infra.sh); null when the brokers keep their data elsewhere.
 */
export function topicDiskBytes(topic: string): number | null {
  const kafkaDir = join(process.env.SHOPSTREAM_HOME ?? join(ROOT, ".local"), "kafka");
  if (!existsSync(kafkaDir)) return null;
  let bytes = 0;
  let found = false;
  for (const node of readdirSync(kafkaDir).filter((n) => /^n\d+$/.test(n))) {
    const data = join(kafkaDir, node, "data");
    if (!existsSync(data)) continue;
    for (const dir of readdirSync(data).filter((d) => d.startsWith(`${topic}-`) && /^\d+$/.test(d.slice(topic.length + 1)))) {
      found = true;
      for (const file of readdirSync(join(data, dir))) if (file.endsWith(".log")) bytes += statSync(join(data, dir, file)).size;
    }
  }
  return found ? bytes : null;
}

import { connect as tcpConnect } from "node:net";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import os from "node:os";
import type { Config } from "../../src/config.ts";

// `bun bench` from a clean clone: start the local stack when something does not answer, and
// describe the machine and commit for the report.

const ROOT = join(import.meta.dir, "../..");

function answers(host: string, port: number, timeoutMs = 1500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tcpConnect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
  });
}

export async function ensureInfra(config: Config): Promise<void> {
  const pg = new URL(config.databaseUrl);
  const redis = new URL(config.redisUrl);
  const targets = [
    { name: "PostgreSQL", host: pg.hostname, port: Number(pg.port || 5432) },
    { name: "Redis", host: redis.hostname, port: Number(redis.port || 6379) },
    ...config.kafkaBrokers.map((b) => {
      const i = b.lastIndexOf(":");
      return { name: `Kafka ${b}`, host: b.slice(0, i).replace(/^\[|\]$/g, ""), port: Number(b.slice(i + 1)) };
    }),
  ];
  const down = [];
  for (const t of targets) if (!(await answers(t.host, t.port))) down.push(t.name);
  if (down.length === 0) return;
  console.error(`${down.join(", ")} not answering: running deploy/local/infra.sh up`);
  const up = Bun.spawnSync(["bash", join(ROOT, "deploy/local/infra.sh"), "up"], { stdout: "inherit", stderr: "inherit" });
  if (up.exitCode !== 0) throw new Error("deploy/local/infra.sh up failed");
}

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

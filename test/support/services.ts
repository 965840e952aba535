import { readdirSync, readFileSync } from "node:fs";
import type { Subprocess } from "bun";
import { stopProcess } from "../../support/process.ts";
import { join } from "node:path";
import { loadConfig, serviceRuntimeEnv } from "../../src/config.ts";

const SERVICES = join(import.meta.dir, "../../src/services");

export interface RunningService {
  name: string;
  proc: Subprocess<"ignore", "pipe", "pipe">;
  output(): string;
  /** SIGTERM, then wait for a clean exit (SIGKILL after `graceMs`: -9); returns the exit code. */
  stop(graceMs?: number): Promise<number>;
}

/** Starts a real service process (as start:all and docker-compose do) and collects its output. */
export function startService(name: string, file: string, args: string[], env: Record<string, string>): RunningService {
  const proc = Bun.spawn([process.execPath, "run", join(SERVICES, file), ...args], {
    env: { ...process.env, ...serviceRuntimeEnv(loadConfig()), ...env },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  let text = "";
  const collect = async (stream: ReadableStream<Uint8Array>) => {
    const decoder = new TextDecoder();
    for await (const chunk of stream) {
      const piece = decoder.decode(chunk, { stream: true });
      text += piece;
      if (process.env.DEBUG) process.stderr.write(piece.replace(/^/gm, `${name} | `));
    }
  };
  const done = Promise.all([collect(proc.stdout), collect(proc.stderr)]);
  return {
    name,
    proc,
    output: () => text,
    async stop(graceMs = 30_000) {
      const code = await stopProcess(proc, graceMs);
      await done;
      return code;
    },
  };
}

/**
 * Pids of the processes started for a test's pipeline: their environment names its topic prefix.
 * `runningOnly` leaves out those that have exited and wait to be reaped (zombies).
 */
export function processesOfPrefix(prefix: string, opts: { runningOnly?: boolean } = {}): number[] {
  const mark = `TOPIC_PREFIX=${prefix}`;
  return readdirSync("/proc")
    .filter((d) => /^\d+$/.test(d))
    .flatMap((pid) => {
      try {
        if (opts.runningOnly) {
          const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
          if (stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z")) return [];
        }
        return readFileSync(`/proc/${pid}/environ`, "latin1").split("\0").includes(mark) ? [Number(pid)] : [];
      } catch {
        return [];
      }
    });
}

import type { Subprocess } from "bun";
import { join } from "node:path";
import { loadConfig, serviceRuntimeEnv } from "../../src/config.ts";

const SERVICES = join(import.meta.dir, "../../src/services");

export interface RunningService {
  name: string;
  proc: Subprocess<"ignore", "pipe", "pipe">;
  output(): string;
  /** SIGTERM, then wait for a clean exit; returns the exit code. */
  stop(): Promise<number>;
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
    async stop() {
      proc.kill("SIGTERM");
      const code = await Promise.race([
        proc.exited,
        Bun.sleep(30_000).then(() => {
          proc.kill("SIGKILL");
          return -9;
        }),
      ]);
      await done;
      return code;
    },
  };
}

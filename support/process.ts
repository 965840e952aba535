import type { Subprocess } from "bun";

/** SIGTERM, then SIGKILL when the process has not exited within `graceMs`; resolves to its exit code (-9 when killed). */
export async function stopProcess(proc: Subprocess, graceMs: number): Promise<number> {
  proc.kill("SIGTERM");
  let timer: ReturnType<typeof setTimeout> | undefined;
  const killed = new Promise<number>((resolve) => {
    timer = setTimeout(() => {
      proc.kill("SIGKILL");
      resolve(-9);
    }, graceMs);
  });
  try {
    return await Promise.race([proc.exited, killed]);
  } finally {
    clearTimeout(timer);
  }
}

import type { RunningService } from "./services.ts";

export interface UntilOptions {
  timeoutMs?: number;
  pollMs?: number;
  /** Services whose last output goes into the error, to show why the wait ran out. */
  services?: Iterable<RunningService>;
}

/** Polls `check` until it holds; past the timeout, fails naming what was awaited. */
export async function until(what: string, check: () => boolean | Promise<boolean>, opts: UntilOptions = {}): Promise<void> {
  const { timeoutMs = 30_000, pollMs = 200, services = [] } = opts;
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs / 1000} s${outputs(services)}`);
    await Bun.sleep(pollMs);
  }
}

/** The last lines each service printed, for an error message. */
export function outputs(services: Iterable<RunningService>, chars = 1500): string {
  return [...services].map((s) => `\n--- ${s.name}\n${s.output().slice(-chars)}`).join("");
}

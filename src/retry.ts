// One backoff for everything that waits out a failure: exponential from `firstMs` to `maxMs`, with
// ±25 % jitter so that many clients retrying the same dead server do not knock in step.

import { ShopstreamError } from "./errors.ts";

export interface Backoff {
  firstMs?: number;
  maxMs?: number;
  /** Off for deterministic waits (tests, fixed polling). */
  jitter?: boolean;
}

export interface RetryOptions extends Backoff {
  /** Tries in all, the first included (unbounded by default). */
  attempts?: number;
  /** Decides whether an error is worth another try (default: every error is). */
  retriable?(err: unknown): boolean;
  /** Told of each failure that will be retried, with the wait before the next try. */
  onRetry?(err: unknown, attempt: number, waitMs: number): void;
  /** Stops retrying: the last error is thrown as soon as the wait is cut short. */
  signal?: AbortSignal;
}

/**
 * Every wait shopstream's loops use, named by what it waits out (docs/design.md, "Faults"): one
 * table, so that a wait is tuned in one place and two loops waiting out the same thing wait alike.
 */
export const POLICIES = {
  /** A Kafka send resent, or a topic's metadata looked up again (the producer's lanes). */
  kafkaResend: { firstMs: 100, maxMs: 5000 },
  /** An admin read while a topic's metadata or a group's coordinator settles (a topic just created, grown or recreated). */
  kafkaSettling: { attempts: 10, firstMs: 300, maxMs: 300 },
  /** A platformatic consumer reopened at its committed offsets after its client broke. */
  consumerReopen: { firstMs: 500, maxMs: 5000 },
  /** A consumer's write to PostgreSQL that failed, with its partition paused meanwhile. */
  batchWrite: { firstMs: 200, maxMs: 5000 },
  /** Records of a batch waiting for what they refer to (a steady rhythm, heartbeats in between). */
  referenceWait: { firstMs: 50, maxMs: 2000, jitter: false },
  /** Redis reconnecting (ioredis' own retry strategy). */
  redisReconnect: { firstMs: 200, maxMs: 2000 },
  /** A producing service's first talk with the schema registry, which may still be starting (bounded by REGISTRY_START_WAIT_MS). */
  registryStart: { firstMs: 500, maxMs: 5000 },
  /** A Kafka Connect worker that answers 409 (rebalancing) or not at all, while the CDC connector is applied or watched. */
  connectBusy: { firstMs: 500, maxMs: 5000 },
  /** A service start:all restarts after it crashed, the wait growing with its crash streak. */
  serviceRestart: { firstMs: 1000, maxMs: 30_000, jitter: false },
} as const satisfies Record<string, RetryOptions>;

/** The wait before try `attempt + 1`, after `attempt` failures (attempt ≥ 1). */
export function backoffMs(attempt: number, { firstMs = 100, maxMs = 5000, jitter = true }: Backoff = {}): number {
  const ms = Math.min(maxMs, firstMs * 2 ** Math.min(attempt - 1, 30));
  return jitter ? ms * (0.75 + Math.random() * 0.5) : ms;
}

/** Runs `work` until it succeeds, a non-retriable error comes, the attempts run out or the signal aborts. */
export async function retry<T>(work: (attempt: number) => Promise<T>, opts: RetryOptions = {}): Promise<T> {
  const attempts = opts.attempts ?? Number.POSITIVE_INFINITY;
  for (let attempt = 1; ; attempt++) {
    try {
      return await work(attempt);
    } catch (err) {
      if (attempt >= attempts || opts.signal?.aborted || (opts.retriable && !opts.retriable(err))) throw err;
      const wait = backoffMs(attempt, opts);
      opts.onRetry?.(err, attempt, wait);
      await sleep(wait, opts.signal);
      if (opts.signal?.aborted) throw err;
    }
  }
}

/** Resolves after ms, or at once when the signal aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}

/** `step`, or a retriable error naming `what` when it has not settled within ms (the step itself is left to finish or fail on its own). */
export async function within<T>(ms: number, what: string, step: Promise<T>): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ShopstreamError(`${what} did not finish within ${ms} ms`, { retriable: true })), ms);
  });
  try {
    return await Promise.race([step, late]);
  } finally {
    clearTimeout(timer);
  }
}

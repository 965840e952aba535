import { sleep } from "../retry.ts";
import type { BatchControl } from "../kafka/port.ts";

// Waiting inside a batch without holding the group up (docs/design.md, "Faults"). A batch's write
// or its pause between retries may last long (a database that hangs, then retries until it is
// back); meanwhile the member must heartbeat (kafkajs heartbeats only when asked) or the group
// rebalances it away, and it must give the batch up at once when it is no longer its own (stop(),
// or a rebalance), or stop() and the group's rebalance wait on the database.

/** How often a wait inside a batch heartbeats and looks whether the batch is still owned. */
export const HOLD_TICK_MS = 1000;

/** The batch stopped being this member's while its write was in flight: it is its next owner's now. */
export class BatchReleased extends Error {
  constructor() {
    super("the batch was given up while its write was in flight (stopping, or the partition moved)");
    this.name = "BatchReleased";
  }
}

/**
 * `work`, heartbeating every tick while it runs. Throws BatchReleased as soon as the batch is no
 * longer owned: `work` is left to settle on its own (a bounded write, idempotent, whose offsets
 * stay uncommitted).
 */
export async function whileOwned<T>(work: Promise<T>, control: BatchControl): Promise<T> {
  const finished = work.then(() => true);
  for (;;) {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const tick = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), HOLD_TICK_MS);
    });
    try {
      if (await Promise.race([finished, tick])) return work;
    } finally {
      clearTimeout(timer);
    }
    if (!control.owned()) {
      finished.catch(() => {}); // its failure, if any, no longer concerns this batch
      throw new BatchReleased();
    }
    await control.heartbeat();
  }
}

/** Waits `ms`, heartbeating every tick; ends early once the batch is no longer owned. */
export async function sleepWithHeartbeat(ms: number, control: BatchControl): Promise<void> {
  const end = Date.now() + ms;
  for (let left = ms; left > 0 && control.owned(); left = end - Date.now()) {
    await sleep(Math.min(left, HOLD_TICK_MS));
    await control.heartbeat();
  }
}

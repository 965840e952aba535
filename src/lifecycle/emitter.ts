import type { Db } from "../db/bounded.ts";
import type { StatusChange } from "../domain/types.ts";
import type { BatchingProducer } from "../kafka/batching-producer.ts";
import type { RecordSender } from "../pipeline/chaos-sender.ts";
import { nextTransition, planLifecycle } from "./plan.ts";
import { dueSteps } from "./store.ts";

// The lifecycle in the live pipeline (docs/design.md, "Order lifecycle"). Every order's plan is a
// pure function of the seed and the order; the orders consumers store each order's next step
// (next_status, next_status_at) as they store the order and each step; the lifecycle service asks
// PostgreSQL which steps are due and publishes them as order_status_changed events on the orders
// topic, keyed by the buyer so a step stays behind its order. Nothing lives only in memory: a step
// that fell due while the service was down is still in the table when it comes back.

/** Steps published but not yet applied are not published again for this long. */
const GRACE_MS = 30_000;
const BATCH = 5000;

export class LifecycleEmitter {
  /** "order:status" → when it was published. */
  private readonly published = new Map<string, number>();
  emitted = 0;

  constructor(
    private readonly db: Db,
    /** For room in its buffer: `sender` puts the steps on it. */
    private readonly producer: BatchingProducer,
    /** How steps go out: in the configured format, plainly or with a chaos profile's faults. */
    private readonly sender: RecordSender,
    private readonly seed: string,
    private readonly speed: number,
  ) {}

  /** Publishes every step due by `now` (the oldest first); returns how many it published. */
  async tick(now: Date, signal?: AbortSignal): Promise<number> {
    const nowMs = now.getTime();
    for (const [key, at] of this.published) if (nowMs - at > GRACE_MS) this.published.delete(key);
    const due = await dueSteps(this.db, now, BATCH);
    let sent = 0;
    for (const row of due) {
      const key = `${row.id}:${row.next_status}`;
      if (this.published.has(key)) continue; // on its way: the consumers have not applied it yet
      await this.producer.whenRoom(signal);
      if (signal?.aborted) break;
      const plan = planLifecycle(row, this.seed, this.speed);
      const change: StatusChange = {
        order_id: row.id,
        from: row.status,
        to: row.next_status,
        at: row.next_status_at,
        reason: nextTransition(plan, row.status)?.reason ?? "scheduled",
      };
      const after = nextTransition(plan, change.to);
      const successor = after ? { order_id: row.id, from: after.from, to: after.to, at: after.at, reason: after.reason } : null;
      this.published.set(key, nowMs);
      this.sender.send("orders", row.user_id, change, { as: "steps", successor }).then(
        () => this.emitted++,
        () => this.published.delete(key), // never acknowledged (rejected, or shutdown): the next run publishes it
      );
      sent++;
    }
    return sent;
  }
}

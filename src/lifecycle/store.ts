import { type Db, withDb } from "../db/bounded.ts";
import type { Sql } from "../db/client.ts";
import { claimLiveWrite } from "../db/locks.ts";
import type { OrderStatus, StatusChange } from "../domain/types.ts";
import type { Schedule } from "../domain/order-status.ts";
import { judgeStep, type StoredOrder, stepAfter } from "./steps.ts";

// The lifecycle's SQL (docs/design.md, "Order lifecycle"). The orders consumers apply a batch's
// steps in one transaction, with its orders locked in id order: each step is judged by the rules
// of steps.ts; the steps that apply move the order, are recorded in order_events with their Kafka
// partition and offset, and schedule the order's next step. A refused step is settled once: when it
// was the order's own scheduled step, the schedule is cleared, so the lifecycle service does not
// publish it again and again (and a pile of such orders cannot fill its due-steps query). The
// lifecycle service reads the due steps.

export interface TransitionResult {
  /** Steps this call applied (a redelivered one is not among them). */
  applied: StatusChange[];
  retry: { id: string; reason: string }[];
  rejected: { id: string; reason: string }[];
}

/** `changes` hold at most one step per order (the consumer writes a batch in passes by order). */
export async function applyTransitions(
  sql: Sql,
  changes: readonly StatusChange[],
  source: { partition: number; offsets: readonly string[] },
  schedule: Schedule,
): Promise<TransitionResult> {
  const result: TransitionResult = { applied: [], retry: [], rejected: [] };
  if (changes.length === 0) return result;
  const ids = changes.map((c) => c.order_id);
  return sql.begin(async (tx) => {
    await claimLiveWrite(tx as unknown as Sql);
    const rows = await tx<StoredOrder[]>`
      select id, status, next_status, category, created_at,
             greatest(created_at, shipped_at, delivered_at, cancelled_at, refunded_at) as last_at
      from orders where id = any(${tx.array(ids)}::text[]) order by id for update`;
    const recorded = await tx<{ order_id: string; to_status: string }[]>`
      select order_id, to_status from order_events where order_id = any(${tx.array(ids)}::text[])`;
    const byId = new Map(rows.map((r) => [r.id, r]));
    const done = new Set(recorded.map((r) => `${r.order_id}:${r.to_status}`));
    const apply: { change: StatusChange; offset: string; order: StoredOrder }[] = [];
    changes.forEach((change, i) => {
      const order = byId.get(change.order_id);
      const verdict = judgeStep(change, order, done.has(`${change.order_id}:${change.to}`));
      if (verdict.kind === "apply" && order) apply.push({ change, offset: source.offsets[i] as string, order });
      else if (verdict.kind === "retry") result.retry.push({ id: change.order_id, reason: verdict.reason });
      else if (verdict.kind === "reject") result.rejected.push({ id: change.order_id, reason: verdict.reason });
    });
    // the refused steps that were their order's scheduled one: nothing will publish them again
    const settled = result.rejected.filter((r) => {
      const c = changes.find((x) => x.order_id === r.id);
      return c !== undefined && byId.get(r.id)?.next_status === c.to;
    });
    if (settled.length)
      await tx`update orders set next_status = null, next_status_at = null where id = any(${tx.array(settled.map((r) => r.id))}::text[])`;
    if (apply.length === 0) return result;
    const next = apply.map((a) => stepAfter(schedule, a.order, a.change));
    const at = apply.map((a) => a.change.at.toISOString());
    await tx`
      insert into order_events (order_id, from_status, to_status, at, reason, source, source_partition, source_offset)
      select order_id, from_status, to_status, at, reason, 'live', ${source.partition}, source_offset
      from unnest(${tx.array(apply.map((a) => a.change.order_id))}::text[], ${tx.array(apply.map((a) => a.change.from))}::text[],
                  ${tx.array(apply.map((a) => a.change.to))}::text[], ${tx.array(at)}::timestamptz[],
                  ${tx.array(apply.map((a) => a.change.reason))}::text[], ${tx.array(apply.map((a) => a.offset))}::bigint[])
           as v(order_id, from_status, to_status, at, reason, source_offset)
      on conflict (order_id, to_status) do nothing`;
    await tx`
      update orders o set status = v.to_status,
        shipped_at = case when v.to_status = 'SHIPPED' then v.at else o.shipped_at end,
        delivered_at = case when v.to_status = 'DELIVERED' then v.at else o.delivered_at end,
        cancelled_at = case when v.to_status = 'CANCELLED' then v.at else o.cancelled_at end,
        refunded_at = case when v.to_status = 'REFUNDED' then v.at else o.refunded_at end,
        next_status = v.next_status, next_status_at = v.next_at
      from unnest(${tx.array(apply.map((a) => a.change.order_id))}::text[], ${tx.array(apply.map((a) => a.change.from))}::text[],
                  ${tx.array(apply.map((a) => a.change.to))}::text[], ${tx.array(at)}::timestamptz[],
                  ${tx.array(next.map((n) => n?.status ?? null) as never[])}::text[],
                  ${tx.array(next.map((n) => n?.at.toISOString() ?? null) as never[])}::timestamptz[])
           as v(id, from_status, to_status, at, next_status, next_at)
      where o.id = v.id and o.status = v.from_status`;
    result.applied = apply.map((a) => a.change);
    return result;
  });
}

/** A step due: the order as the emitter needs it, and where its schedule says it goes next. */
export interface DueStep {
  id: string;
  user_id: string;
  category: string;
  created_at: Date;
  status: OrderStatus;
  next_status: OrderStatus;
  next_status_at: Date;
}

/** Up to `limit` steps due by `now`, the oldest first. Read-only: a read left at a stop, or timed out, changes nothing. */
export function dueSteps(db: Db, now: Date, limit: number): Promise<DueStep[]> {
  return withDb(
    db,
    "the due steps",
    async (sql) => sql<DueStep[]>`
      select id, user_id, category, created_at, status, next_status, next_status_at from orders
      where next_status is not null and next_status_at <= ${now}
      order by next_status_at limit ${limit}`,
  );
}

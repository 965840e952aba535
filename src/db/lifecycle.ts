import { canStillReach } from "../domain/lifecycle.ts";
import type { OrderStatus, StatusChange } from "../domain/types.ts";
import type { Sql } from "./client.ts";
import { claimLiveWrite } from "./locks.ts";

// The orders consumers' side of the lifecycle (docs/design.md, "Order lifecycle"): each step is
// applied at most once and never backwards. In one transaction, with the batch's orders locked in
// id order: a step whose order is not stored yet, or that waits for an earlier step, is retried; a
// step already recorded (a redelivery) changes nothing; a step that can never apply (the order was
// cancelled, or it would go back in time) is refused; the others move the order, record the step
// in order_events with its Kafka partition and offset, and schedule the order's next step.
//
// A refused step is settled once: when it was the order's own scheduled step, the schedule is
// cleared, so the lifecycle service does not publish it again and again (and a pile of such
// orders cannot fill its due-steps query). A next step is never planned before the change it
// follows (a plan computed under another SPEED, or a step injected far ahead, would otherwise be
// refused for ever).

/** An order's next planned step: which status, when. */
export interface ScheduledStep {
  status: OrderStatus;
  at: Date;
}

/** The next step of an order now at `status`, from its lifecycle plan (null: it has none). */
export type Schedule = (order: { id: string; category: string; created_at: Date }, status: OrderStatus) => ScheduledStep | null;

export interface TransitionResult {
  /** Steps this call applied (a redelivered one is not among them). */
  applied: StatusChange[];
  retry: { id: string; reason: string }[];
  rejected: { id: string; reason: string }[];
}

interface OrderRow {
  id: string;
  status: OrderStatus;
  next_status: OrderStatus | null;
  category: string;
  created_at: Date;
  /** When it last changed status (its creation at first). */
  last_at: Date;
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
    const rows = await tx<OrderRow[]>`
      select id, status, next_status, category, created_at,
             greatest(created_at, shipped_at, delivered_at, cancelled_at, refunded_at) as last_at
      from orders where id = any(${tx.array(ids)}::text[]) order by id for update`;
    const recorded = await tx<{ order_id: string; to_status: string }[]>`
      select order_id, to_status from order_events where order_id = any(${tx.array(ids)}::text[])`;
    const byId = new Map(rows.map((r) => [r.id, r]));
    const done = new Set(recorded.map((r) => `${r.order_id}:${r.to_status}`));
    const apply: { change: StatusChange; offset: string; order: OrderRow }[] = [];
    changes.forEach((c, i) => {
      const order = byId.get(c.order_id);
      if (!order) result.retry.push({ id: c.order_id, reason: `order ${c.from} → ${c.to}: the order was not stored` });
      else if (done.has(`${c.order_id}:${c.to}`))
        return; // redelivered: recorded already
      else if (order.status === c.from) {
        if (c.at.getTime() < order.last_at.getTime())
          result.rejected.push({
            id: c.order_id,
            reason: `${c.from} → ${c.to} at ${c.at.toISOString()} goes back before the order's last change`,
          });
        else apply.push({ change: c, offset: source.offsets[i] as string, order });
      } else if (canStillReach(order.status, c.from))
        result.retry.push({
          id: c.order_id,
          reason: `${c.from} → ${c.to} waits for the order to reach ${c.from} (it is ${order.status}) and did not`,
        });
      else result.rejected.push({ id: c.order_id, reason: `${c.from} → ${c.to} can never apply: the order is ${order.status}` });
    });
    // the refused steps that were their order's scheduled one: nothing will publish them again
    const settled = result.rejected.filter((r) => {
      const c = changes.find((x) => x.order_id === r.id);
      return c !== undefined && byId.get(r.id)?.next_status === c.to;
    });
    if (settled.length)
      await tx`update orders set next_status = null, next_status_at = null where id = any(${tx.array(settled.map((r) => r.id))}::text[])`;
    if (apply.length === 0) return result;
    const next = apply.map((a) => {
      const n = schedule(a.order, a.change.to);
      return n && n.at.getTime() < a.change.at.getTime() ? { ...n, at: a.change.at } : n;
    });
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

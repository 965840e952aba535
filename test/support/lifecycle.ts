import { expect } from "bun:test";
import type { Sql } from "../../src/db/client.ts";
import { isLegal } from "../../src/domain/order-status.ts";
import type { Transition } from "../../src/lifecycle/plan.ts";
import type { OrderStatus } from "../../src/domain/types.ts";

// What the lifecycle suites hold every stored order to, live or historical: its history in
// order_events is a legal path from PAID in time order, the row stands where that path ends, and
// the path is the order's own plan.

export interface StoredOrder {
  id: string;
  user_id: string;
  category: string;
  created_at: Date;
  status: OrderStatus;
  shipped_at: Date | null;
  delivered_at: Date | null;
  cancelled_at: Date | null;
  refunded_at: Date | null;
  next_status: OrderStatus | null;
}

export interface StoredStep {
  order_id: string;
  from_status: OrderStatus;
  to_status: OrderStatus;
  at: Date;
  reason: string;
  source: string;
  source_partition: number | null;
  source_offset: string | null;
  recorded_at: Date;
}

/** Every order of the database (or of one source), by id. */
export async function storedOrders(sql: Sql, source?: "live" | "historical"): Promise<StoredOrder[]> {
  return [
    ...(await sql<StoredOrder[]>`
      select id, user_id, category, created_at, status, shipped_at, delivered_at, cancelled_at, refunded_at, next_status
      from orders ${source ? sql`where source = ${source}` : sql``} order by id`),
  ];
}

/** Every recorded step, by order and time. */
export async function storedSteps(sql: Sql): Promise<StoredStep[]> {
  return [
    ...(await sql<StoredStep[]>`
      select order_id, from_status, to_status, at, reason, source, source_partition, source_offset::text, recorded_at
      from order_events order by order_id, at`),
  ];
}

const AT_COLUMN = [
  ["SHIPPED", "shipped_at"],
  ["DELIVERED", "delivered_at"],
  ["CANCELLED", "cancelled_at"],
  ["REFUNDED", "refunded_at"],
] as const;

/**
 * Asserts the order's history is a legal path from PAID, each step after the one before (the first
 * after the payment) and before `endMs`; that the row holds the last status, each step's time and
 * no next step; and that the path is `planned`, step for step.
 */
export function expectCourse(o: StoredOrder, history: readonly StoredStep[], planned: readonly Transition[], endMs = Infinity): void {
  let status: OrderStatus = "PAID";
  let last = o.created_at.getTime();
  for (const e of history) {
    // nothing shipped before it was paid, no refund before delivery, nothing after the end
    const at = e.at.getTime();
    expect([o.id, e.from_status, isLegal(e.from_status, e.to_status), at > last, at < endMs]).toEqual([o.id, status, true, true, true]);
    status = e.to_status;
    last = at;
  }
  expect([o.id, o.status, o.next_status]).toEqual([o.id, status, null]);
  for (const [to, column] of AT_COLUMN)
    expect([o.id, to, o[column]?.getTime() ?? null]).toEqual([o.id, to, history.find((e) => e.to_status === to)?.at.getTime() ?? null]);
  expect([o.id, history.map((e) => [e.to_status, e.at.getTime(), e.reason])]).toEqual([
    o.id,
    planned.map((s) => [s.to, s.at.getTime(), s.reason]),
  ]);
}

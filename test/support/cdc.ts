import type { Sql } from "../../src/db/client.ts";
import type { OrderStatus } from "../../src/domain/types.ts";
import type { KafkaAdmin, KafkaClient } from "../../src/kafka/port.ts";
import { readTopic } from "../../src/kafka/read-topic.ts";

// What the CDC suites compare: PostgreSQL's own account of every order (its first status, then each
// step order_events recorded) against Debezium's change events for it in cdc.orders.

/** Per order, what PostgreSQL says happened: its first status, then each status it moved to, in order. */
export async function historyInPostgres(sql: Sql): Promise<Map<string, OrderStatus[]>> {
  const events = await sql<{ order_id: string; to_status: OrderStatus }[]>`
    select order_id, to_status from order_events order by order_id, at`;
  const orders = await sql<{ id: string }[]>`select id from orders`;
  const history = new Map(orders.map((o) => [o.id, ["PAID" as OrderStatus]]));
  for (const e of events) history.get(e.order_id)?.push(e.to_status);
  return history;
}

export interface Change {
  id: string;
  op: string;
  before: OrderStatus | null;
  after: OrderStatus;
  /** Where in the WAL the change was read: a replay carries its original's. */
  lsn: number;
}

/** cdc.orders' events per order, in the topic's order (one order's events share a partition). */
export async function changesInKafka(
  kafka: { client: KafkaClient; admin: KafkaAdmin },
  topic: string,
): Promise<{ byOrder: Map<string, Change[]>; records: number }> {
  const records = await readTopic(kafka.client, kafka.admin, topic);
  const byOrder = new Map<string, Change[]>();
  for (const r of records) {
    if (!r.value) continue; // a delete's tombstone: none are made here
    const e = JSON.parse(r.value) as {
      op: string;
      before: { status: OrderStatus } | null;
      after: { id: string; status: OrderStatus };
      source: { lsn: number };
    };
    const list = byOrder.get(e.after.id) ?? [];
    list.push({ id: e.after.id, op: e.op, before: e.before?.status ?? null, after: e.after.status, lsn: e.source.lsn });
    byOrder.set(e.after.id, list);
  }
  return { byOrder, records: records.length };
}

/** Events expected in all: one insert per order, one update per step. */
export const expectedEvents = (history: Map<string, OrderStatus[]>) => [...history.values()].reduce((n, h) => n + h.length, 0);

/** Each order's statuses as its events tell them, a replayed event (the same change again) counted apart. */
export function statusesOf(changes: Change[]): { statuses: OrderStatus[]; replayed: number } {
  const statuses: OrderStatus[] = [];
  const seen = new Set<string>();
  let replayed = 0;
  for (const c of changes) {
    // a replay is the same change again: same WAL position, same row; anything else is a change of its own
    const key = `${c.lsn}:${c.op}:${c.after}`;
    if (seen.has(key)) replayed++;
    else statuses.push(c.after);
    seen.add(key);
  }
  return { statuses, replayed };
}

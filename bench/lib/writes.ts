import type { Sql } from "../../src/db/client.ts";
import { loadConfig } from "../../src/config.ts";
import { copyRows, type CopyValue } from "../../src/db/copy.ts";
import { columnNames, rowValues } from "../../src/db/tables.ts";
import { insertOrders, insertRows, ORDER_INSERT, type ScheduledOrder, withSchedule } from "../../src/db/writers.ts";
import type { Order } from "../../src/domain/types.ts";
import { lifecycleSchedule } from "../../src/lifecycle/steps.ts";
import { laneOf } from "./lanes.ts";

// PostgreSQL's write paths for the same orders. COPY is one stream (its natural form); the batched
// paths use the consumers' shape: maxBatch rows per statement, `lanes` writers in parallel, each
// with its own share of users. unnest and multi-row are plain inserts (ON CONFLICT DO NOTHING on the
// id, nothing else); insertOrders is the consumers' write path with its side effects (reference
// check, users.last_ordered_at, products.order_count). Every path writes the same rows the
// consumers write: each order with its first planned lifecycle step (BENCH_SCHEDULE below).

/** The consumers' schedule: the same SEED and SPEED as the order consumers the bench starts. */
export const BENCH_SCHEDULE = ((c) => lifecycleSchedule(c.seed, c.speed))(loadConfig());

export type WriteMethod = "copy" | "unnest" | "multirow" | "insertOrders";
export const WRITE_METHODS: readonly WriteMethod[] = ["copy", "unnest", "multirow", "insertOrders"];

export function writeMethod(sql: Sql, method: WriteMethod, orders: Order[], maxBatch: number, lanes: number): () => Promise<void> {
  const split = splitLanes(orders, lanes, maxBatch);
  switch (method) {
    case "copy":
      return async () => {
        const rows = withSchedule(orders, BENCH_SCHEDULE);
        await sql.begin((tx) => copyRows(tx as unknown as Sql, ORDER_INSERT.name, columnNames(ORDER_INSERT), copySource(rows)));
      };
    case "unnest":
      // the write path's own unnest statement, without its reference check and side effects
      return () =>
        inLanes(split, async (batch) => {
          await insertRows(sql, ORDER_INSERT, withSchedule(batch, BENCH_SCHEDULE));
        });
    case "multirow":
      return () => inLanes(split, (batch) => plainMultiRow(sql, batch));
    case "insertOrders":
      return () =>
        inLanes(split, async (batch) => {
          const r = await insertOrders(sql, batch, { schedule: BENCH_SCHEDULE });
          if (r.missingRefs.length) throw new Error("insertOrders skipped orders with missing references");
        });
  }
}

/** Empties orders and undoes its side effects, so the next write method starts from the same state. */
export async function resetOrders(sql: Sql): Promise<void> {
  await sql`truncate orders, order_events`;
  await sql`update users set last_ordered_at = null where last_ordered_at is not null`;
  await sql`update products set order_count = 0 where order_count <> 0`;
  await sql`vacuum analyze users, products, orders`;
}

function* copySource(rows: ScheduledOrder[]): Iterable<readonly CopyValue[]> {
  for (const o of rows) yield rowValues(ORDER_INSERT, o) as CopyValue[];
}

function splitLanes(orders: Order[], lanes: number, maxBatch: number): Order[][][] {
  const perLane: Order[][] = Array.from({ length: lanes }, () => []);
  for (const o of orders) (perLane[laneOf(o.user_id, lanes)] as Order[]).push(o);
  return perLane.map((rows) => {
    const batches: Order[][] = [];
    for (let i = 0; i < rows.length; i += maxBatch) batches.push(rows.slice(i, i + maxBatch));
    return batches;
  });
}

async function inLanes(lanes: Order[][][], write: (batch: Order[]) => Promise<void>): Promise<void> {
  await Promise.all(
    lanes.map(async (batches) => {
      for (const batch of batches) await write(batch);
    }),
  );
}

const COLS = columnNames(ORDER_INSERT);

async function plainMultiRow(sql: Sql, orders: Order[]): Promise<void> {
  const batch = withSchedule(orders, BENCH_SCHEDULE);
  // postgres.js' sql(rows, ...columns) is one VALUES list with 15 parameters per row, capped at 65,534
  // parameters: a larger batch goes as several statements in one transaction (still one commit)
  const perStatement = Math.floor(65_534 / COLS.length);
  const insert = (q: Sql, rows: ScheduledOrder[]) =>
    q`insert into orders ${q(rows as unknown as Record<string, unknown>[], ...(COLS as [string]))} on conflict (id) do nothing`;
  if (batch.length <= perStatement) {
    await insert(sql, batch);
    return;
  }
  await sql.begin(async (tx) => {
    for (let i = 0; i < batch.length; i += perStatement) await insert(tx as unknown as Sql, batch.slice(i, i + perStatement));
  });
}

import type { Sql } from "../../src/db/client.ts";
import { copyRows, type CopyValue } from "../../src/db/copy.ts";
import { ORDERS, columnNames, rowValues } from "../../src/db/tables.ts";
import { insertOrders, insertRows } from "../../src/db/writers.ts";
import type { Order } from "../../src/domain/types.ts";
import { laneOf } from "./lanes.ts";

// PostgreSQL's write paths for the same orders. COPY is one stream (its natural form); the batched
// paths use the consumers' shape: maxBatch rows per statement, `lanes` writers in parallel, each
// with its own share of users. unnest and multi-row are plain inserts (ON CONFLICT DO NOTHING on the
// id, nothing else); insertOrders is the consumers' write path with its side effects (reference
// check, users.last_ordered_at, products.order_count).

export type WriteMethod = "copy" | "unnest" | "multirow" | "insertOrders";
export const WRITE_METHODS: readonly WriteMethod[] = ["copy", "unnest", "multirow", "insertOrders"];

export function writeMethod(sql: Sql, method: WriteMethod, orders: Order[], maxBatch: number, lanes: number): () => Promise<void> {
  const split = splitLanes(orders, lanes, maxBatch);
  switch (method) {
    case "copy":
      return async () => {
        await sql.begin((tx) => copyRows(tx as unknown as Sql, ORDERS.name, columnNames(ORDERS), copySource(orders)));
      };
    case "unnest":
      // the write path's own unnest statement, without its reference check and side effects
      return () =>
        inLanes(split, async (batch) => {
          await insertRows(sql, ORDERS, batch);
        });
    case "multirow":
      return () => inLanes(split, (batch) => plainMultiRow(sql, batch));
    case "insertOrders":
      return () =>
        inLanes(split, async (batch) => {
          const r = await insertOrders(sql, batch);
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

function* copySource(orders: Order[]): Iterable<readonly CopyValue[]> {
  for (const o of orders) yield rowValues(ORDERS, o) as CopyValue[];
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

const COLS = columnNames(ORDERS);

async function plainMultiRow(sql: Sql, batch: Order[]): Promise<void> {
  // postgres.js' sql(rows, ...columns) is one VALUES list with 15 parameters per row, capped at 65,534
  // parameters: a larger batch goes as several statements in one transaction (still one commit)
  const perStatement = Math.floor(65_534 / COLS.length);
  const insert = (q: Sql, rows: Order[]) =>
    q`insert into orders ${q(rows as unknown as Record<string, unknown>[], ...(COLS as [string]))} on conflict (id) do nothing`;
  if (batch.length <= perStatement) {
    await insert(sql, batch);
    return;
  }
  await sql.begin(async (tx) => {
    for (let i = 0; i < batch.length; i += perStatement) await insert(tx as unknown as Sql, batch.slice(i, i + perStatement));
  });
}

import type { Order, Product, User } from "../domain/types.ts";
import type { Sql } from "./client.ts";
import { ORDERS, PRODUCTS, USERS, columnNames, type TableSpec } from "./tables.ts";

// Batched writes: one statement per table per batch, with unnest (one parameter per column, one
// plan for any batch size) rather than a multi-row VALUES list capped at 65,534 parameters.

function unnestSource<T>(sql: Sql, spec: TableSpec<T>, rows: readonly T[]): { select: string; params: unknown[] } {
  const params = spec.columns.map(([column]) =>
    sql.array(rows.map((row) => {
      const v = row[column] as unknown;
      return v instanceof Date ? v.toISOString() : (v ?? null);
    }) as never[]),
  );
  const args = spec.columns.map(([, type], i) => `$${i + 1}::${type}[]`).join(", ");
  return { select: `select * from unnest(${args}) as s(${columnNames(spec).join(", ")})`, params };
}

/** Inserts rows that are new by id; a redelivered row changes nothing. Returns how many were new. */
async function insertNew<T>(sql: Sql, spec: TableSpec<T>, rows: readonly T[]): Promise<number> {
  if (rows.length === 0) return 0;
  const { select, params } = unnestSource(sql, spec, rows);
  const res = await sql.unsafe(`insert into ${spec.name} (${columnNames(spec).join(", ")}) ${select} on conflict (id) do nothing`, params as never[]);
  return res.count;
}

export const insertUsers = (sql: Sql, users: readonly User[]): Promise<number> => insertNew(sql, USERS, users);
export const insertProducts = (sql: Sql, products: readonly Product[]): Promise<number> => insertNew(sql, PRODUCTS, products);

export interface OrderWriteResult {
  /** Orders written for the first time. */
  inserted: number;
  /** Ids of orders whose user or product row does not exist yet: not written, to be retried. */
  missingRefs: string[];
}

/**
 * Writes a batch of orders in one statement: new orders are inserted, their users' last_ordered_at
 * advanced and their products' order_count increased by one per order. Only rows actually inserted
 * feed the two updates, so a redelivered order changes nothing twice. Orders whose user or product
 * has not arrived yet are skipped and reported instead of failing the batch on the foreign key.
 */
export async function insertOrders(sql: Sql, orders: readonly Order[], source: "live" | "historical" = "live"): Promise<OrderWriteResult> {
  if (orders.length === 0) return { inserted: 0, missingRefs: [] };
  const { select, params } = unnestSource(sql, ORDERS, orders);
  const cols = columnNames(ORDERS).join(", ");
  const [row] = await sql.unsafe<{ inserted: number; missing: string[] | null }[]>(
    `with src as (${select}),
     ready as (
       select src.* from src
       where exists (select 1 from users u where u.id = src.user_id)
         and exists (select 1 from products p where p.id = src.product_id)
     ),
     ins as (
       insert into orders (${cols}, source)
       select ${cols}, '${source}' from ready
       on conflict (id) do nothing
       returning user_id, product_id, created_at
     ),
     touched_users as (
       update users u set last_ordered_at = greatest(coalesce(u.last_ordered_at, '-infinity'), m.last_at), updated_at = now()
       from (select user_id, max(created_at) as last_at from ins group by user_id) m
       where u.id = m.user_id
       returning 1
     ),
     touched_products as (
       update products p set order_count = p.order_count + m.n, updated_at = now()
       from (select product_id, count(*) as n from ins group by product_id) m
       where p.id = m.product_id
       returning 1
     )
     select (select count(*) from ins)::int as inserted,
            (select array_agg(id) from src where id not in (select id from ready)) as missing`,
    params as never[],
  );
  return { inserted: row?.inserted ?? 0, missingRefs: row?.missing ?? [] };
}

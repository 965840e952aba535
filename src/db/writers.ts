import type { Order, OrderStatus, Product, User } from "../domain/types.ts";
import type { Sql } from "./client.ts";
import type { Schedule } from "../domain/order-status.ts";
import { claimLiveWrite } from "./locks.ts";
import { CLICK_EVENTS, ORDERS, PRODUCTS, USERS, columnNames, type TableSpec } from "./tables.ts";
import { type Click, STAGE_OF } from "../domain/clickstream.ts";

export type ScheduledOrder = Order & { next_status: OrderStatus | null; next_status_at: Date | null };
/** An order as the consumers insert it: its columns and its first planned step. */
export const ORDER_INSERT: TableSpec<ScheduledOrder> = {
  ...(ORDERS as unknown as TableSpec<ScheduledOrder>),
  columns: [...(ORDERS.columns as TableSpec<ScheduledOrder>["columns"]), ["next_status", "text"], ["next_status_at", "timestamptz"]],
};

// Batched writes: one statement per table per batch, with unnest (one parameter per column, one
// plan for any batch size) rather than a multi-row VALUES list capped at 65,534 parameters.

function unnestSource<T>(sql: Sql, spec: TableSpec<T>, rows: readonly T[]): { select: string; params: unknown[] } {
  const params = spec.columns.map(([column]) =>
    sql.array(
      rows.map((row) => {
        const v = row[column] as unknown;
        return v instanceof Date ? v.toISOString() : (v ?? null);
      }) as never[],
    ),
  );
  const args = spec.columns.map(([, type], i) => `$${i + 1}::${type}[]`).join(", ");
  return { select: `select * from unnest(${args}) as s(${columnNames(spec).join(", ")})`, params };
}

/** A row whose id is taken by a stored row with other content in its identity columns. */
export interface Conflict {
  id: string;
  columns: string[];
}

export interface WriteResult {
  /** Rows written for the first time. */
  inserted: number;
  /** Rows not written because their id belongs to a different stored row. */
  conflicts: Conflict[];
}

/** Inserts rows that are new by id, one statement; a redelivered row changes nothing, a reused id is reported. */
export async function insertRows<T extends { id: string }>(sql: Sql, spec: TableSpec<T>, rows: readonly T[]): Promise<WriteResult> {
  if (rows.length === 0) return { inserted: 0, conflicts: [] };
  const { select, params } = unnestSource(sql, spec, rows);
  const res = await sql.unsafe(
    `insert into ${spec.name} (${columnNames(spec).join(", ")}) ${select} on conflict (id) do nothing`,
    params as never[],
  );
  const conflicts = res.count < rows.length ? await findConflicts(sql, spec, select, params) : [];
  return { inserted: res.count, conflicts };
}

/** insertRows as a live write: in a transaction that first claims the live-write lock (src/db/locks.ts). */
function insertLive<T extends { id: string }>(sql: Sql, spec: TableSpec<T>, rows: readonly T[]): Promise<WriteResult> {
  if (rows.length === 0) return Promise.resolve({ inserted: 0, conflicts: [] });
  return sql.begin(async (tx) => {
    await claimLiveWrite(tx as unknown as Sql);
    return insertRows(tx as unknown as Sql, spec, rows);
  });
}

/**
 * The incoming rows whose id is stored with different identity columns (run only when some rows
 * were not new, so the common path pays nothing), naming the columns that differ.
 */
async function findConflicts<T>(sql: Pick<Sql, "unsafe">, spec: TableSpec<T>, select: string, params: unknown[]): Promise<Conflict[]> {
  const differs = spec.identity.map((c) => `case when t.${c} is distinct from s.${c} then '${c}' end`).join(", ");
  return sql.unsafe<Conflict[]>(
    `select s.id, array_remove(array[${differs}], null) as columns
       from (${select}) s join ${spec.name} t on t.id = s.id
      where (${spec.identity.map((c) => `t.${c}`).join(", ")}) is distinct from (${spec.identity.map((c) => `s.${c}`).join(", ")})`,
    params as never[],
  );
}

export const insertUsers = (sql: Sql, users: readonly User[]): Promise<WriteResult> => insertLive(sql, USERS, users);
export const insertProducts = (sql: Sql, products: readonly Product[]): Promise<WriteResult> => insertLive(sql, PRODUCTS, products);

/** The funnel stage an event marks (the sessions table's `reached`), as SQL over a click's type. */
export const STAGE_OF_TYPE_SQL = `case type ${Object.entries(STAGE_OF)
  .map(([type, stage]) => `when '${type}' then ${stage}`)
  .join(" ")} end`;

/**
 * Writes a batch of page events in one transaction and folds the new ones into their sessions:
 * events added, first and last time widened, the furthest funnel stage kept. Only events inserted
 * for the first time are folded, so a redelivered click changes nothing twice; events arriving late
 * or out of order fold the same. A session's clicks share a partition (keyed by session), so one
 * consumer writes its row; the rows are still locked in id order, in case a rebalance overlaps two.
 */
export async function insertClicks(sql: Sql, clicks: readonly Click[]): Promise<WriteResult> {
  if (clicks.length === 0) return { inserted: 0, conflicts: [] };
  const cols = columnNames(CLICK_EVENTS).join(", ");
  return sql.begin(async (tx) => {
    await claimLiveWrite(tx as unknown as Sql);
    const { select, params } = unnestSource(sql, CLICK_EVENTS, clicks);
    const [row] = await tx.unsafe<{ inserted: number }[]>(
      `with fresh as (
         insert into click_events (${cols}) ${select}
         on conflict (id) do nothing
         returning *
       ),
       folded as (
         insert into sessions (id, user_id, device, channel, region, category, started_at, ended_at, events, reached, order_id)
         select session_id, max(user_id), min(device), min(channel), max(region),
                min(category) filter (where type = 'session_start'), min(at), max(at), count(*)::int,
                max(${STAGE_OF_TYPE_SQL}), max(order_id)
           from fresh group by session_id order by session_id
         on conflict (id) do update set
           user_id = coalesce(excluded.user_id, sessions.user_id),
           region = coalesce(excluded.region, sessions.region),
           category = coalesce(sessions.category, excluded.category),
           started_at = least(sessions.started_at, excluded.started_at),
           ended_at = greatest(sessions.ended_at, excluded.ended_at),
           events = sessions.events + excluded.events,
           reached = greatest(sessions.reached, excluded.reached),
           order_id = coalesce(sessions.order_id, excluded.order_id)
         returning 1
       )
       select (select count(*) from fresh)::int as inserted, (select count(*) from folded)::int as sessions`,
      params as never[],
    );
    const inserted = row?.inserted ?? 0;
    const conflicts = inserted < clicks.length ? await findConflicts(tx, CLICK_EVENTS, select, params) : [];
    return { inserted, conflicts };
  });
}

export interface OrderWriteResult extends WriteResult {
  /** Ids of orders whose user or product row does not exist yet: not written, to be retried. */
  missingRefs: string[];
}

/**
 * Writes a batch of orders in one transaction: new orders are inserted, their users' last_ordered_at
 * advanced and their products' order_count increased by one per order. Only rows actually inserted
 * feed the two updates, so a redelivered order changes nothing twice. Orders whose user or product
 * has not arrived yet are skipped and reported instead of failing the batch on the foreign key.
 *
 * Three consumers write at once and share the popular products, so the updates lock their rows in
 * id order (no deadlock) and come last (the shared rows stay locked for the updates and the commit
 * only, not for the insert and its foreign-key checks, which is most of the work).
 */
export async function insertOrders(
  sql: Sql,
  orders: readonly Order[],
  opts: { source?: "live" | "historical"; schedule?: Schedule } = {},
): Promise<OrderWriteResult> {
  if (orders.length === 0) return { inserted: 0, missingRefs: [], conflicts: [] };
  const source = opts.source ?? "live";
  const cols = columnNames(ORDER_INSERT).join(", ");
  return sql.begin(async (tx) => {
    await claimLiveWrite(tx as unknown as Sql);
    // The reference check looks up the batch's distinct ids only (2,000 orders from the 200 top
    // buyers name ~200 users and ~750 products) instead of joining every order against both tables.
    const [known] = await tx<{ users: string[]; products: string[] }[]>`
      select array(select id from users where id = any(${tx.array(distinct(orders, "user_id"))}::text[])) as users,
             array(select id from products where id = any(${tx.array(distinct(orders, "product_id"))}::text[])) as products`;
    const users = new Set(known?.users);
    const products = new Set(known?.products);
    const ready = orders.filter((o) => users.has(o.user_id) && products.has(o.product_id));
    const missingRefs =
      ready.length === orders.length ? [] : orders.filter((o) => !users.has(o.user_id) || !products.has(o.product_id)).map((o) => o.id);
    if (ready.length === 0) return { inserted: 0, missingRefs, conflicts: [] };
    const rows = withSchedule(ready, opts.schedule);
    const { select, params } = unnestSource(sql, ORDER_INSERT, rows);
    const [row] = await tx.unsafe<InsertedOrders[]>(
      `with ins as (
         insert into orders (${cols}, source)
         select ${cols}, '${source}' from (${select}) src
         on conflict (id) do nothing
         returning user_id, product_id, created_at
       ),
       by_user as (select user_id as id, max(created_at) as last_at from ins group by user_id),
       by_product as (select product_id as id, count(*)::int as n from ins group by product_id)
       select (select count(*) from ins)::int as inserted,
              (select coalesce(json_agg(by_user order by id), '[]') from by_user) as users,
              (select coalesce(json_agg(by_product order by id), '[]') from by_product) as products`,
      params as never[],
    );
    if (!row) throw new Error("insertOrders: no result row");
    const conflicts = row.inserted < ready.length ? await findConflicts(tx, ORDERS, select, params) : [];
    // Only rows actually inserted feed the updates (a redelivered order changes nothing twice). The
    // rows are locked in id order first: the three consumers share the popular products, and two
    // batches locking them in different orders would deadlock. (The per-user and per-product sums
    // travel as JSON: parsed natively, where a text[] result is parsed character by character.)
    if (row.users.length) {
      const users = tx.json(row.users);
      await tx`select 1 from users where id in (select id from json_to_recordset(${users}::json) as v(id text)) order by id for no key update`;
      await tx`update users u set last_ordered_at = greatest(coalesce(u.last_ordered_at, '-infinity'), v.last_at), updated_at = now()
               from json_to_recordset(${users}::json) as v(id text, last_at timestamptz) where u.id = v.id`;
    }
    if (row.products.length) {
      const products = tx.json(row.products);
      await tx`select 1 from products where id in (select id from json_to_recordset(${products}::json) as v(id text)) order by id for no key update`;
      await tx`update products p set order_count = p.order_count + v.n, updated_at = now()
               from json_to_recordset(${products}::json) as v(id text, n int) where p.id = v.id`;
    }
    return { inserted: row.inserted, missingRefs, conflicts };
  });
}

/** Orders with their first planned lifecycle step, which the lifecycle service emits when it falls due. */
export function withSchedule(orders: readonly Order[], schedule?: Schedule): ScheduledOrder[] {
  return orders.map((o) => {
    const next = schedule?.(o, o.status) ?? null;
    // every column present (an order of schema version 1 has no coupon, one before 3 no session): a writer that names columns needs them all
    return {
      ...o,
      coupon_code: o.coupon_code ?? null,
      session_id: o.session_id ?? null,
      next_status: next?.status ?? null,
      next_status_at: next?.at ?? null,
    };
  });
}

interface InsertedOrders {
  inserted: number;
  /** Per user of the inserted orders, its latest order; per product, how many. Sorted by id. */
  users: { id: string; last_at: string }[];
  products: { id: string; n: number }[];
}

function distinct(orders: readonly Order[], key: "user_id" | "product_id"): string[] {
  return [...new Set(orders.map((o) => o[key]))];
}

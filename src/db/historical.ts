// The historical year's statements (src/historical/run.ts runs them): the run's lock and its
// record, the state the period starts from, the sessions tuned for bulk writing, undoing a run,
// and the set-based steps that make users.last_ordered_at and products.order_count agree with
// whatever orders remain.
import type { User } from "../domain/types.ts";
import { bestEffort } from "../errors.ts";
import type { Sql } from "./client.ts";
import { recomputeGrades } from "./grades.ts";
import { LOCKS } from "./locks.ts";

export const META_KEY = "historical";

/** sql.begin on a pool; plain BEGIN/COMMIT on a reserved connection, which has no begin(). */
async function transaction<T>(sql: Sql, body: (tx: Sql) => Promise<T>): Promise<T> {
  if (!("release" in sql)) return sql.begin((tx) => body(tx as unknown as Sql)) as Promise<T>;
  await sql`begin`;
  try {
    const result = await body(sql);
    await sql`commit`;
    return result;
  } catch (err) {
    await bestEffort(sql`rollback`);
    throw err;
  }
}

/** users.last_ordered_at = the user's latest order (live and historical alike), touching only rows that differ. */
export async function syncLastOrdered(sql: Sql): Promise<number> {
  const res = await sql`
    update users u set last_ordered_at = s.last_at, updated_at = now()
    from (
      select u2.id, o.last_at
      from users u2 left join (select user_id, max(created_at) as last_at from orders group by user_id) o on o.user_id = u2.id
    ) s
    where u.id = s.id and u.last_ordered_at is distinct from s.last_at`;
  return res.count;
}

/** products.order_count = the product's orders (live and historical alike), touching only rows that differ. */
export async function syncOrderCounts(sql: Sql): Promise<number> {
  const res = await sql`
    update products p set order_count = s.n, updated_at = now()
    from (
      select p2.id, coalesce(o.n, 0)::int as n
      from products p2 left join (select product_id, count(*) as n from orders group by product_id) o on o.product_id = p2.id
    ) s
    where p.id = s.id and p.order_count <> s.n`;
  return res.count;
}

export interface ClearResult {
  orders: number;
  gradeHistory: number;
  users: number;
  products: number;
  /** Page events of the year's clickstream (--clicks). */
  clicks: number;
}

/**
 * Removes what historical runs wrote — orders with source 'historical', grade_history with reason
 * 'historical', and the customers and products they added unless live orders have since named them — then brings
 * last_ordered_at, order_count and grades back in line with the remaining (live) orders, recomputing
 * grades at `now` exactly as the live updater's next run would.
 */
export async function clearHistorical(sql: Sql, now = new Date()): Promise<ClearResult> {
  const result = await transaction(sql, async (tx) => {
    const [{ historical, other }] = (await tx`
      select count(*) filter (where source = 'historical')::int as historical, count(*) filter (where source <> 'historical')::int as other
      from orders`) as unknown as [{ historical: number; other: number }];
    // only order_events references orders (its rows go with their order): when every order is
    // historical, truncating both beats deleting a million rows
    if (historical > 0 && other === 0) await tx`truncate orders, order_events`;
    else if (historical > 0) await tx`delete from orders where source = 'historical'`;
    // the year's clickstream (--clicks): nothing references it; millions of rows at scale 20, so
    // truncated when no live click is among them
    const [c] = (await tx`
      select count(*) filter (where source = 'historical')::int as clicks, coalesce(bool_or(source = 'live'), false) as live
        from click_events`) as unknown as [{ clicks: number; live: boolean }];
    if (c.live) {
      await tx`delete from click_events where source = 'historical'`;
      await tx`delete from sessions where source = 'historical'`;
    } else await tx`truncate click_events, sessions`;
    const history = await tx`delete from grade_history where reason = 'historical'`;
    const gone = await tx`
      with doomed as (
        select id from users u where u.source = 'historical' and not exists (select 1 from orders o where o.user_id = u.id)
      ),
      h as (delete from grade_history g using doomed d where g.user_id = d.id)
      delete from users u using doomed d where u.id = d.id`;
    const delisted = await tx`
      delete from products p where p.source = 'historical' and not exists (select 1 from orders o where o.product_id = p.id)`;
    await tx`delete from shopstream_meta where key = ${META_KEY}`;
    return { orders: historical, gradeHistory: history.count, users: gone.count, products: delisted.count, clicks: c.clicks };
  });
  await syncLastOrdered(sql);
  await syncOrderCounts(sql);
  await recomputeGrades(sql, now, "batch");
  // most user and product rows were just rewritten: leave the tables compact for the next scans
  await sql`vacuum analyze users, products`;
  return result;
}

/**
 * One historical run per database, and no live write beside it: the consumers' transactions claim
 * LOCKS.liveWrites shared, a run holds it exclusive (waiting for the writes in flight to commit),
 * so its counter sync and its reset never overwrite or truncate what a consumer writes meanwhile.
 * The consumers pause and retry until it ends (src/db/locks.ts).
 */
export async function lockRuns(conn: Sql): Promise<true> {
  const [lock] = await conn`select pg_try_advisory_lock(${LOCKS.historical}) as ok`;
  if (lock?.ok !== true) throw new Error("another historical run is writing to this database");
  await conn`select pg_advisory_lock(${LOCKS.liveWrites})`;
  return true;
}

export async function unlockRuns(conn: Sql): Promise<void> {
  await bestEffort(conn`select pg_advisory_unlock(${LOCKS.liveWrites})`);
  await bestEffort(conn`select pg_advisory_unlock(${LOCKS.historical})`);
}

/** The run's record in shopstream_meta (what it was asked, whether it finished), and whether historical rows exist. */
export async function previousRun<Meta>(sql: Sql): Promise<{ meta: Meta | null; rows: boolean }> {
  const [meta] = await sql<{ value: Meta }[]>`select value from shopstream_meta where key = ${META_KEY}`;
  const [rows] = await sql<{ any: boolean }[]>`
    select exists (select 1 from orders where source = 'historical') or exists (select 1 from users where source = 'historical') as any`;
  return { meta: meta?.value ?? null, rows: rows?.any === true };
}

export async function writeRunRecord(sql: Sql, value: object): Promise<void> {
  await sql`insert into shopstream_meta (key, value) values (${META_KEY}, ${sql.json(value as never)})
            on conflict (key) do update set value = excluded.value, updated_at = now()`;
}

export async function catalogueSize(sql: Sql): Promise<{ users: number; products: number }> {
  const [row] = await sql<{ users: number; products: number }[]>`
    select (select count(*) from users)::int as users, (select count(*) from products)::int as products`;
  return row ?? { users: 0, products: 0 };
}

/** Which scenario each day runs under, for analyses of the year. */
export async function recordScenarioDays(sql: Sql, days: readonly { day: string; scenario: string }[]): Promise<void> {
  if (days.length === 0) return;
  await sql`insert into scenario_days ${sql(days as { day: string; scenario: string }[], "day", "scenario")}
            on conflict (day) do update set scenario = excluded.scenario`;
}

/**
 * A session tuned for bulk writing: a crash loses at most the last commits, and an unfinished run
 * is cleared and redone anyway. `sorting` adds memory to hash a half-year window, and (for the grade
 * lane, which shares two cores with the COPY and Bun) no parallel workers, which would only take
 * cores from the COPY, and no JIT, whose compile time exceeds what it saves here.
 */
export async function bulkSession(conn: Sql, opts: { sorting?: "memory" | "memory, serial" } = {}): Promise<void> {
  if (!opts.sorting) await conn`select set_config('synchronous_commit', 'off', false)`;
  else if (opts.sorting === "memory")
    await conn`select set_config('synchronous_commit', 'off', false), set_config('work_mem', '64MB', false)`;
  else
    await conn`select set_config('synchronous_commit', 'off', false), set_config('work_mem', '64MB', false),
                      set_config('max_parallel_workers_per_gather', '0', false), set_config('jit', 'off', false)`;
}

/** Each instant minus `months`, exactly as the grade SQL computes it (timestamptz − interval, session time zone). */
export async function monthsBefore(sql: Sql, instants: readonly Date[], months: number): Promise<number[]> {
  const rows = await sql`
    select t - ${months} * interval '1 month' as bound
    from unnest(${sql.array(instants.map((d) => d.toISOString()))}::timestamptz[]) with ordinality as x(t, i) order by i`;
  return rows.map((r) => (r.bound as Date).getTime());
}

/** Fresh planner statistics for the tables a run grows fast (autovacuum lags a million rows a minute). */
export async function analyze(sql: Sql, tables: "orders" | "users and orders"): Promise<void> {
  if (tables === "users and orders") await sql`analyze users`;
  await sql`analyze orders`;
}

export interface PeriodStartRows {
  users: (Pick<User, "id" | "gender" | "age" | "region" | "status" | "marketing_opt_in" | "grade" | "created_at"> & {
    last_at: Date | null;
  })[];
  products: { id: string; category: string; price: number; created_at: Date; n: number }[];
  /** Orders of the counted statuses in (after, until], oldest first. */
  counted: { user_id: string; total_amount: string; created_at: Date }[];
}

/**
 * The shop as it stood at `start`: each user's last order and each product's order count up to
 * then, and the orders of `statuses` a grade window ending in (after, until] can reach.
 */
export async function periodStart(
  sql: Sql,
  start: Date,
  counted: { statuses: readonly string[]; after: Date; until: Date },
): Promise<PeriodStartRows> {
  const users = await sql<PeriodStartRows["users"]>`
    select u.id, u.gender, u.age, u.region, u.status, u.marketing_opt_in, u.grade, u.created_at, l.last_at
    from users u left join (select user_id, max(created_at) as last_at from orders where created_at <= ${start} group by user_id) l on l.user_id = u.id`;
  const products = await sql<PeriodStartRows["products"]>`
    select p.id, p.category, p.price, p.created_at, coalesce(c.n, 0)::int as n
    from products p left join (select product_id, count(*) as n from orders where created_at <= ${start} group by product_id) c on c.product_id = p.id`;
  const orders = await sql<PeriodStartRows["counted"]>`
    select user_id, total_amount, created_at from orders
    where status = any(${sql.array([...counted.statuses])}::text[]) and created_at > ${counted.after} and created_at <= ${counted.until}
    order by created_at, id`;
  return { users: [...users], products: [...products], counted: [...orders] };
}

/** Leaves the reserved connection as it was found (session settings undone). */
export async function resetSession(conn: Sql): Promise<void> {
  await conn`reset all`;
}

// Undoing a historical run, and the set-based steps that make users.last_ordered_at and
// products.order_count agree with whatever orders remain.
import type { Sql } from "../db/client.ts";
import { recomputeGrades } from "../db/grades.ts";
import { bestEffort } from "../errors.ts";

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
    return { orders: historical, gradeHistory: history.count, users: gone.count, products: delisted.count };
  });
  await syncLastOrdered(sql);
  await syncOrderCounts(sql);
  await recomputeGrades(sql, now, "batch");
  // most user and product rows were just rewritten: leave the tables compact for the next scans
  await sql`vacuum analyze users, products`;
  return result;
}

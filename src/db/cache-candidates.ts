import { APPETITE_SQL, DUE_GAP_MS } from "../domain/appetite.ts";
import type { Grade } from "../domain/types.ts";
import type { Sql } from "./client.ts";

// The cache's two candidate pools per table, in one round trip each (docs/design.md, "Cache"): the
// cache-worker's split picks its shares from them.

export interface UserRow {
  id: string;
  name: string;
  gender: "M" | "F";
  age: number;
  region: string;
  grade: Grade;
  status: "ACTIVE" | "DORMANT";
  marketing_opt_in: boolean;
  created_at: Date;
  last_ordered_at: Date | null;
}

export interface ProductRow {
  id: string;
  name: string;
  category: string;
  brand: string;
  price: number | string;
  order_count: number | string;
  created_at: Date;
}

type Pooled<T> = T & { pool: "ordered" | "newest" };

/** When a customer is due again: the last order + DUE_GAP_MS / appetite (src/domain/appetite.ts). */
const DUE_AT = `last_ordered_at + make_interval(secs => ${DUE_GAP_MS / 1000} / ${APPETITE_SQL})`;

/**
 * Up to `limit` users who ordered, the longest past due first (for equal appetites: who ordered
 * longest ago), and up to `limit` who never did, the newest first.
 */
export async function userCandidates(sql: Sql, limit: number): Promise<{ ordered: UserRow[]; newest: UserRow[] }> {
  const rows = await sql<Pooled<UserRow>[]>`
    (select 'ordered' as pool, id, name, gender, age, region, grade, status, marketing_opt_in, created_at, last_ordered_at
       from users where last_ordered_at is not null order by ${sql.unsafe(DUE_AT)} asc, id limit ${limit})
    union all
    (select 'newest' as pool, id, name, gender, age, region, grade, status, marketing_opt_in, created_at, last_ordered_at
       from users where last_ordered_at is null order by created_at desc, id limit ${limit})`;
  return byPool(rows);
}

/** Up to `limit` products by orders, the most ordered first, and up to `limit` of the newest. */
export async function productCandidates(sql: Sql, limit: number): Promise<{ ordered: ProductRow[]; newest: ProductRow[] }> {
  const rows = await sql<Pooled<ProductRow>[]>`
    (select 'ordered' as pool, id, name, category, brand, price, order_count, created_at
       from products where order_count > 0 order by order_count desc, id limit ${limit})
    union all
    (select 'newest' as pool, id, name, category, brand, price, order_count, created_at
       from products order by created_at desc, id limit ${limit})`;
  return byPool(rows);
}

function byPool<T>(rows: Pooled<T>[]): { ordered: T[]; newest: T[] } {
  return { ordered: rows.filter((r) => r.pool === "ordered"), newest: rows.filter((r) => r.pool === "newest") };
}

import { appetiteOf } from "../domain/appetite.ts";
import type Redis from "ioredis";
import { type Db, withDb } from "../db/bounded.ts";
import { type ProductRow, productCandidates, type UserRow, userCandidates } from "../db/cache-candidates.ts";
import type { Sql } from "../db/client.ts";
import { PRODUCT_SPLIT, type SplitSizes, splitPools, USER_SPLIT, widenedUserSplit } from "../domain/pools.ts";
import type { CacheKeys } from "./keys.ts";

// Split load (docs/design.md, "Cache"): one query per table brings both candidate pools in a single round trip,
// splitPools picks the 600/400 and 700/300 shares, and both hashes are replaced inside one MULTI,
// so a reader sees the whole previous cache or the whole new one, never a mix.

export interface CacheSplit {
  users: SplitSizes;
  products: SplitSizes;
}

export const DEFAULT_SPLIT: CacheSplit = { users: USER_SPLIT, products: PRODUCT_SPLIT };

/** The split widened to `users` customers in the same 60/40 proportion (under --rate: the whole base). */
export function widenedSplit(users: number): CacheSplit {
  return { users: widenedUserSplit(users), products: PRODUCT_SPLIT };
}

export interface CachedUser {
  id: string;
  name: string;
  gender: "M" | "F";
  age: number;
  region: string;
  grade: "BRONZE" | "SILVER" | "GOLD" | "VIP";
  status: "ACTIVE" | "DORMANT";
  marketing_opt_in: boolean;
  created_at: string;
  last_ordered_at: string | null;
  /** appetiteOf(id) (src/domain/appetite.ts): the producer's score multiplies by it. */
  appetite: number;
}

export interface CachedProduct {
  id: string;
  name: string;
  category: string;
  brand: string;
  price: number;
  order_count: number;
  created_at: string;
}

export async function selectUsers(sql: Sql, sizes: SplitSizes = USER_SPLIT): Promise<CachedUser[]> {
  const rows = await userCandidates(sql, sizes.total);
  // a user has ordered or not: the two pools never share a member
  return splitPools(rows.ordered.map(toCachedUser), rows.newest.map(toCachedUser), sizes);
}

export async function selectProducts(sql: Sql, sizes: SplitSizes = PRODUCT_SPLIT): Promise<CachedProduct[]> {
  const rows = await productCandidates(sql, sizes.total);
  // the most ordered products can be among the newest
  return splitPools(rows.ordered.map(toCachedProduct), rows.newest.map(toCachedProduct), sizes, { overlap: true });
}

function iso(v: unknown): string {
  return v instanceof Date ? v.toISOString() : String(v);
}

function toCachedUser(r: UserRow): CachedUser {
  return {
    id: r.id,
    name: r.name,
    gender: r.gender,
    age: Number(r.age),
    region: r.region,
    grade: r.grade,
    status: r.status,
    marketing_opt_in: r.marketing_opt_in,
    created_at: iso(r.created_at),
    last_ordered_at: r.last_ordered_at === null ? null : iso(r.last_ordered_at),
    appetite: appetiteOf(r.id),
  };
}

function toCachedProduct(r: ProductRow): CachedProduct {
  return {
    id: r.id,
    name: r.name,
    category: r.category,
    brand: r.brand,
    price: Number(r.price),
    order_count: Number(r.order_count),
    created_at: iso(r.created_at),
  };
}

export interface ReloadResult {
  users: number;
  products: number;
  reloads: number;
  ms: number;
}

/**
 * Loads both tables (within the pool's deadline on a BoundedPool) and swaps them into Redis
 * atomically: a reload left halfway changes the cache wholly or not at all.
 */
export async function reloadCache(db: Db, redis: Redis, keys: CacheKeys, split: CacheSplit = DEFAULT_SPLIT): Promise<ReloadResult> {
  const started = performance.now();
  const [users, products] = await withDb(db, "the cache's users and products", (sql) =>
    Promise.all([selectUsers(sql, split.users), selectProducts(sql, split.products)]),
  );
  const now = new Date().toISOString();
  const tx = redis.multi();
  tx.del(keys.users, keys.products);
  if (users.length) tx.hset(keys.users, ...users.flatMap((u) => [u.id, JSON.stringify(u)]));
  if (products.length) tx.hset(keys.products, ...products.flatMap((p) => [p.id, JSON.stringify(p)]));
  tx.hset(keys.usersMeta, "count", users.length, "updated_at", now);
  tx.hset(keys.productsMeta, "count", products.length, "updated_at", now);
  tx.hincrby(keys.stats, "reloads", 1);
  const replies = await tx.exec();
  const failed = replies?.find(([err]) => err);
  if (!replies || failed) throw new Error(`cache swap failed: ${failed?.[0]?.message ?? "transaction aborted"}`);
  const reloads = Number(replies[replies.length - 1]?.[1]);
  return { users: users.length, products: products.length, reloads, ms: performance.now() - started };
}

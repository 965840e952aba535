// The cache's split load (docs/design.md, "Cache") replayed in memory on the simulated clock (the
// pools themselves: buyer-pool.ts, product-pool.ts): the historical year cannot ask PostgreSQL
// "who has not ordered for longest" every simulated hour, so it keeps the answer up to date as it
// orders. Users and products only join their pools once their created_at has passed, so nobody
// orders before they exist.
import type { BuyerCandidate } from "./order-draw.ts";

export interface SimUser extends BuyerCandidate {
  /** Position in BuyerPool.users (src/domain/buyer-pool.ts). */
  idx: number;
  createdMs: number;
  appetite: number;
}

export interface SimProduct {
  id: string;
  category: string;
  price: number;
  /** Position in ProductPool.products (src/domain/product-pool.ts). */
  idx: number;
  createdMs: number;
}

export interface SplitSizes {
  total: number;
  /** Taken from the primary pool (buyers longest past due; products by order count). */
  primary: number;
}

/** The cache's own split (docs/design.md, "Cache"), replayed in memory: 600 buyers + 400 never ordered; 700 popular + 300 new. */
export const USER_SPLIT: SplitSizes = { total: 1000, primary: 600 };
export const PRODUCT_SPLIT: SplitSizes = { total: 1000, primary: 700 };

/**
 * The split load as a pure merge, for the cache-worker (pools from PostgreSQL) and the historical
 * year (pools replayed in memory): `sizes.primary` from the primary pool,
 * the rest from the secondary, either filling the other's gap so the result holds `sizes.total`
 * whenever the two pools together have that many. Pools that may share a member (the most ordered
 * products can be among the newest) are merged without repeats (`overlap`); disjoint ones (a user
 * has ordered or not) skip the de-duplication, which cost a third of the year's generation time.
 */
export function splitPools<T extends { id: string }>(
  primary: readonly T[],
  secondary: readonly T[],
  sizes: SplitSizes,
  opts: { overlap?: boolean } = {},
): T[] {
  if (opts.overlap) return mergeWithoutRepeats(primary, secondary, sizes);
  const fromPrimary = Math.min(sizes.primary, sizes.total, primary.length);
  const fromSecondary = Math.min(sizes.total - fromPrimary, secondary.length);
  const primaryWithGap = Math.min(sizes.total - fromSecondary, primary.length);
  return [...primary.slice(0, fromPrimary), ...secondary.slice(0, fromSecondary), ...primary.slice(fromPrimary, primaryWithGap)];
}

function mergeWithoutRepeats<T extends { id: string }>(primary: readonly T[], secondary: readonly T[], sizes: SplitSizes): T[] {
  const taken = new Set<string>();
  const out: T[] = [];
  const take = (pool: readonly T[], limit: number, from = 0): number => {
    let i = from;
    for (; i < pool.length && out.length < limit; i++) {
      const item = pool[i] as T;
      if (taken.has(item.id)) continue;
      taken.add(item.id);
      out.push(item);
    }
    return i;
  };
  const primaryNext = take(primary, Math.min(sizes.primary, sizes.total));
  const secondaryNext = take(secondary, sizes.total);
  take(primary, sizes.total, primaryNext); // secondary was short: primary fills the gap
  take(secondary, sizes.total, secondaryNext);
  return out;
}

/** The user split widened to `users` customers in the same 60/40 proportion (under --rate: the whole base). */
export function widenedUserSplit(users: number): SplitSizes {
  return { total: users, primary: Math.round((users * USER_SPLIT.primary) / USER_SPLIT.total) };
}

/** How much of the primary side a split can use, once the secondary side's size is known. */
export function primaryNeeded(sizes: SplitSizes, secondary: number): number {
  return Math.min(sizes.total, Math.max(sizes.primary, sizes.total - secondary));
}

export const byCreated = (a: { createdMs: number; id: string }, b: { createdMs: number; id: string }) =>
  a.createdMs - b.createdMs || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/**
 * Not-yet-ordered members, newest first, for the secondary half of a split. Members are pushed in
 * created_at order; ones that have ordered since are skipped, and dropped once they pile up.
 */
export class NewestFirst {
  private stack: number[] = [];

  push(idx: number): void {
    this.stack.push(idx);
  }

  take<T>(n: number, ordered: (idx: number) => boolean, item: (idx: number) => T): T[] {
    const out: T[] = [];
    let skipped = 0;
    for (let i = this.stack.length - 1; i >= 0 && out.length < n; i--) {
      const idx = this.stack[i] as number;
      if (ordered(idx)) skipped++;
      else out.push(item(idx));
    }
    // the newest members order first, so the skipped ones sit on top: compact when they outnumber a take
    if (skipped > n) this.stack = this.stack.filter((idx) => !ordered(idx));
    return out;
  }
}

// The cache's split load (docs/design.md, "Cache") replayed in memory on the simulated clock: the historical year
// (every simulated hour) and the producer under --rate (every simulated day) cannot ask PostgreSQL
// "who has not ordered for longest" that often, so they keep the answer up to date as they order. Users and products only join their pools once their
// created_at has passed, so nobody orders before they exist.
import type { BuyerCandidate } from "./order-draw.ts";
import type { Rng } from "./random.ts";

export interface SimUser extends BuyerCandidate {
  /** Position in BuyerPool.users. */
  idx: number;
  createdMs: number;
}

export interface SimProduct {
  id: string;
  category: string;
  price: number;
  /** Position in ProductPool.products. */
  idx: number;
  createdMs: number;
}

export interface SplitSizes {
  total: number;
  /** Taken from the primary pool (buyers by oldest last order; products by order count). */
  primary: number;
}

/** The cache's own split (docs/design.md, "Cache"), replayed in memory: 600 buyers + 400 never ordered; 700 popular + 300 new. */
export const USER_SPLIT: SplitSizes = { total: 1000, primary: 600 };
export const PRODUCT_SPLIT: SplitSizes = { total: 1000, primary: 700 };

/**
 * The split load as a pure merge, for the cache-worker (pools from PostgreSQL), the historical year
 * and the producer under --rate (pools replayed in memory): `sizes.primary` from the primary pool,
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
function primaryNeeded(sizes: SplitSizes, secondary: number): number {
  return Math.min(sizes.total, Math.max(sizes.primary, sizes.total - secondary));
}

const byCreated = (a: { createdMs: number; id: string }, b: { createdMs: number; id: string }) =>
  a.createdMs - b.createdMs || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/**
 * Not-yet-ordered members, newest first, for the secondary half of a split. Members are pushed in
 * created_at order; ones that have ordered since are skipped, and dropped once they pile up.
 */
class NewestFirst {
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

/** Users: who exists, who has ordered, and in which order they last ordered. */
export class BuyerPool {
  readonly users: SimUser[] = [];
  /** Not yet signed up at the simulated clock, by created_at. */
  private pending: SimUser[] = [];
  private pendingAt = 0;
  private readonly arrived: SimUser[] = [];
  private readonly neverOrdered = new NewestFirst();
  private ordered = new Uint8Array(1024);
  // doubly linked list of users who have ordered, oldest last order at the head
  private prev = new Int32Array(1024).fill(-1);
  private next = new Int32Array(1024).fill(-1);
  private head = -1;
  private tail = -1;

  /**
   * `lastOrderedMs` is each user's last order before the simulation starts (null: never), as the
   * database knows it; users already signed up at the start are placed by it.
   */
  constructor(users: readonly (Omit<SimUser, "idx"> & { lastOrderedMs: number | null })[], startMs: number) {
    const sorted = [...users].sort(byCreated);
    const buyers: SimUser[] = [];
    const lastOf = new Map<string, number>();
    for (const u of sorted) {
      const { lastOrderedMs, ...rest } = u;
      const user = this.add(rest);
      if (u.createdMs > startMs) {
        this.pending.push(user);
        continue;
      }
      this.arrived.push(user);
      if (lastOrderedMs !== null && lastOrderedMs <= startMs) {
        lastOf.set(user.id, lastOrderedMs);
        buyers.push(user);
      } else this.neverOrdered.push(user.idx);
    }
    buyers.sort((a, b) => (lastOf.get(a.id) as number) - (lastOf.get(b.id) as number) || (a.id < b.id ? -1 : 1));
    for (const b of buyers) this.recordOrder(b);
  }

  private add(u: Omit<SimUser, "idx">): SimUser {
    const user: SimUser = { ...u, idx: this.users.length };
    this.users.push(user);
    if (user.idx >= this.ordered.length) this.grow();
    return user;
  }

  private grow(): void {
    const size = this.ordered.length * 2;
    const ordered = new Uint8Array(size);
    ordered.set(this.ordered);
    const prev = new Int32Array(size).fill(-1);
    prev.set(this.prev);
    const next = new Int32Array(size).fill(-1);
    next.set(this.next);
    this.ordered = ordered;
    this.prev = prev;
    this.next = next;
  }

  /** Users who sign up during the simulation; they join the pool once the clock passes their created_at. */
  addSignUps(users: readonly Omit<SimUser, "idx">[]): SimUser[] {
    const added = [...users].sort(byCreated).map((u) => this.add(u));
    const waiting = this.pending.slice(this.pendingAt);
    const merged: SimUser[] = [];
    let i = 0;
    let j = 0;
    while (i < waiting.length || j < added.length) {
      const a = waiting[i];
      const b = added[j];
      if (b === undefined || (a !== undefined && byCreated(a, b) <= 0)) {
        merged.push(a as SimUser);
        i++;
      } else {
        merged.push(b);
        j++;
      }
    }
    this.pending = merged;
    this.pendingAt = 0;
    return added;
  }

  /** Lets everyone with created_at <= atMs into the pools. */
  advance(atMs: number): void {
    while (this.pendingAt < this.pending.length && (this.pending[this.pendingAt] as SimUser).createdMs <= atMs) {
      const u = this.pending[this.pendingAt++] as SimUser;
      this.arrived.push(u);
      this.neverOrdered.push(u.idx);
    }
  }

  get arrivedCount(): number {
    return this.arrived.length;
  }

  /** Moves the user to the back of the "longest since last order" queue. */
  recordOrder(u: SimUser): void {
    const i = u.idx;
    if (this.ordered[i]) {
      if (this.tail === i) return;
      const p = this.prev[i] as number;
      const n = this.next[i] as number;
      if (p >= 0) this.next[p] = n;
      else this.head = n;
      this.prev[n] = p; // n exists: i is not the tail
    }
    this.ordered[i] = 1;
    this.prev[i] = this.tail;
    this.next[i] = -1;
    if (this.tail >= 0) this.next[this.tail] = i;
    else this.head = i;
    this.tail = i;
  }

  hasOrdered(u: SimUser): boolean {
    return this.ordered[u.idx] === 1;
  }

  /**
   * The cache's user split: `primary` who ordered longest ago + the newest who never ordered, either
   * side filling the other's gap.
   */
  split(sizes: SplitSizes): SimUser[] {
    const fresh = this.neverOrdered.take(
      sizes.total,
      (idx) => this.ordered[idx] === 1,
      (idx) => this.users[idx] as SimUser,
    );
    const want = primaryNeeded(sizes, fresh.length);
    const buyers: SimUser[] = [];
    for (let i = this.head; i >= 0 && buyers.length < want; i = this.next[i] as number) buyers.push(this.users[i] as SimUser);
    return splitPools(buyers, fresh, sizes);
  }

  /** `n` distinct signed-up users at random (the first simulated week, before anyone has a history). */
  sample(n: number, rng: Rng): SimUser[] {
    const pool = this.arrived;
    if (pool.length <= n) return [...pool];
    // Floyd's algorithm: n distinct indices without shuffling the whole pool
    const chosen = new Set<number>();
    for (let j = pool.length - n; j < pool.length; j++) {
      const t = rng.int(0, j);
      chosen.add(chosen.has(t) ? j : t);
    }
    return [...chosen].map((i) => pool[i] as SimUser);
  }
}

/** Products: who is listed, and the running order counts that make some of them popular. */
export class ProductPool {
  readonly products: SimProduct[];
  readonly counts: Int32Array;
  private arrivedCount = 0;
  private readonly neverOrdered = new NewestFirst();
  /** Rank of each product by id: the cache breaks order_count ties by id. */
  private readonly idRank: Int32Array;
  private readonly byIdRank: Int32Array;
  /** The most-ordered listed products, best first, as of the last split. */
  private top: number[] = [];
  private readonly touched: number[] = [];
  private readonly isTouched: Uint8Array;

  /** `orderCount` is each product's order count before the simulation starts. */
  constructor(products: readonly (Omit<SimProduct, "idx"> & { orderCount: number })[]) {
    if (products.length > 2 ** 21) throw new Error(`at most ${2 ** 21} products supported, got ${products.length}`);
    const sorted = [...products].sort(byCreated);
    this.products = sorted.map(({ orderCount: _, ...p }, idx) => ({ ...p, idx }));
    this.counts = Int32Array.from(sorted, (p) => p.orderCount);
    const ids = this.products
      .map((p) => p.idx)
      .sort((a, b) => {
        const x = (this.products[a] as SimProduct).id;
        const y = (this.products[b] as SimProduct).id;
        return x < y ? -1 : x > y ? 1 : 0;
      });
    this.byIdRank = Int32Array.from(ids);
    this.idRank = new Int32Array(ids.length);
    ids.forEach((idx, rank) => {
      this.idRank[idx] = rank;
    });
    this.isTouched = new Uint8Array(this.products.length);
  }

  /** Lists every product with created_at <= atMs. */
  advance(atMs: number): void {
    while (this.arrivedCount < this.products.length && (this.products[this.arrivedCount] as SimProduct).createdMs <= atMs) {
      const idx = this.arrivedCount++;
      if (this.counts[idx]! > 0) this.touch(idx);
      else this.neverOrdered.push(idx);
    }
  }

  get listed(): number {
    return this.arrivedCount;
  }

  recordOrder(p: SimProduct): void {
    this.counts[p.idx]! += 1;
    this.touch(p.idx);
  }

  private touch(idx: number): void {
    if (this.isTouched[idx]) return;
    this.isTouched[idx] = 1;
    this.touched.push(idx);
  }

  /** order_count descending, then id ascending, as one number (exact: below 2^53). */
  private key(idx: number): number {
    return (2 ** 31 - (this.counts[idx] as number)) * 2 ** 21 + (this.idRank[idx] as number);
  }

  /**
   * The cache's product split: `primary` by order_count (ties by id) + the newest never ordered.
   * Counts only grow, so the new ranking is the old one without the products ordered (or listed)
   * since, merged with those re-ranked: a few hundred steps, not a sort of the catalogue.
   */
  split(sizes: SplitSizes): SimProduct[] {
    if (this.touched.length > 0) {
      const moved = Float64Array.from(this.touched, (idx) => this.key(idx)).sort();
      const top: number[] = [];
      let i = 0;
      let j = 0;
      while (top.length < sizes.total && (i < this.top.length || j < moved.length)) {
        const stay = this.top[i];
        if (stay !== undefined && this.isTouched[stay]) {
          i++;
          continue;
        }
        if (stay !== undefined && (j >= moved.length || this.key(stay) < (moved[j] as number))) {
          top.push(stay);
          i++;
        } else top.push(this.byIdRank[(moved[j++] as number) % 2 ** 21] as number);
      }
      for (const idx of this.touched) this.isTouched[idx] = 0;
      this.touched.length = 0;
      this.top = top;
    }
    const fresh = this.neverOrdered.take(
      sizes.total,
      (idx) => this.counts[idx]! > 0,
      (idx) => this.products[idx] as SimProduct,
    );
    const want = primaryNeeded(sizes, fresh.length);
    const popular = this.top.slice(0, want).map((idx) => this.products[idx] as SimProduct);
    return splitPools(popular, fresh, sizes);
  }
}

import { byCreated, NewestFirst, primaryNeeded, type SimUser, type SplitSizes, splitPools } from "./pools.ts";
import type { Rng } from "./random.ts";

// Buyers on the simulated clock, for the split load replayed in memory (src/domain/pools.ts).

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

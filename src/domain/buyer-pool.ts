import { appetiteOf, DUE_GAP_MS, dueMs } from "./appetite.ts";
import { DueQueue } from "./due-queue.ts";
import { byCreated, NewestFirst, primaryNeeded, type SimUser, type SplitSizes, splitPools } from "./pools.ts";
import type { Rng } from "./random.ts";

// Buyers on the simulated clock, for the split load the historical year replays in memory (src/domain/pools.ts).

/** Users: who exists, who has ordered, and when each who has is due again (their appetite). */
export class BuyerPool {
  readonly users: SimUser[] = [];
  /** Not yet signed up at the simulated clock, by created_at. */
  private pending: SimUser[] = [];
  private pendingAt = 0;
  private readonly arrived: SimUser[] = [];
  private readonly neverOrdered = new NewestFirst();
  /** Who has ordered, by when they are due again. */
  private readonly due = new DueQueue();

  /**
   * `lastOrderedMs` is each user's last order before the simulation starts (null: never), as the
   * database knows it; users already signed up at the start are placed by it. `gapMs`: how long
   * after an order a customer of appetite 1 is due again (DUE_GAP_MS; the suite shortens it).
   */
  constructor(
    users: readonly (Omit<SimUser, "idx" | "appetite"> & { lastOrderedMs: number | null })[],
    startMs: number,
    private readonly gapMs = DUE_GAP_MS,
  ) {
    for (const u of [...users].sort(byCreated)) {
      const { lastOrderedMs, ...rest } = u;
      const user = this.add(rest);
      if (u.createdMs > startMs) {
        this.pending.push(user);
        continue;
      }
      this.arrived.push(user);
      if (lastOrderedMs !== null && lastOrderedMs <= startMs) this.recordOrder(user, lastOrderedMs);
      else this.neverOrdered.push(user.idx);
    }
  }

  private add(u: Omit<SimUser, "idx" | "appetite">): SimUser {
    const user: SimUser = { ...u, idx: this.users.length, appetite: appetiteOf(u.id) };
    this.users.push(user);
    return user;
  }

  /** Users who sign up during the simulation; they join the pool once the clock passes their created_at. */
  addSignUps(users: readonly Omit<SimUser, "idx" | "appetite">[]): SimUser[] {
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

  /** An order by `u` at `ms`: due again `gapMs / appetite` later. */
  recordOrder(u: SimUser, ms: number): void {
    this.due.set(u.idx, dueMs(ms, u.appetite, this.gapMs));
  }

  hasOrdered(u: SimUser): boolean {
    return this.due.has(u.idx);
  }

  /**
   * The cache's user split: `primary` buyers longest past due (for appetite 1: who ordered longest
   * ago) + the newest who never ordered, either side filling the other's gap.
   */
  split(sizes: SplitSizes): SimUser[] {
    const fresh = this.neverOrdered.take(
      sizes.total,
      (idx) => this.due.has(idx),
      (idx) => this.users[idx] as SimUser,
    );
    const buyers = this.due.earliest(primaryNeeded(sizes, fresh.length)).map((idx) => this.users[idx] as SimUser);
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

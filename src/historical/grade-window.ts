// Every user's PAID total and order count over the trailing grade window (docs/design.md, "Grades"), kept as orders
// are generated. The year needs each user's grade for the next simulated week's propensity at once,
// while PostgreSQL (recomputeGrades, the updater's own SQL) is still writing the previous week; this
// is the same rule on the same rows, and the run checks at every checkpoint that both agree.
import { gradeFor } from "../domain/grades.ts";
import type { Grade } from "../domain/types.ts";

export interface WindowOrder {
  user: number;
  amount: number;
  ms: number;
}

const CHUNK = 1 << 16;

/** Orders in time order; forgets from the front. Chunked so half a year never moves in memory. */
class OrderQueue {
  private chunks: { user: Int32Array; amount: Float64Array; ms: Float64Array }[] = [];
  private head = 0; // position in chunks[0]
  private tailLen = CHUNK; // fill of the last chunk

  push(user: number, amount: number, ms: number): void {
    if (this.tailLen === CHUNK) {
      this.chunks.push({ user: new Int32Array(CHUNK), amount: new Float64Array(CHUNK), ms: new Float64Array(CHUNK) });
      this.tailLen = 0;
    }
    const c = this.chunks[this.chunks.length - 1]!;
    c.user[this.tailLen] = user;
    c.amount[this.tailLen] = amount;
    c.ms[this.tailLen] = ms;
    this.tailLen++;
  }

  /** Removes every order at or before boundMs, calling drop for each. */
  shiftUntil(boundMs: number, drop: (user: number, amount: number) => void): void {
    while (this.chunks.length > 0) {
      const c = this.chunks[0]!;
      const len = this.chunks.length === 1 ? this.tailLen : CHUNK;
      while (this.head < len && (c.ms[this.head] as number) <= boundMs) {
        drop(c.user[this.head] as number, c.amount[this.head] as number);
        this.head++;
      }
      if (this.head < len) return;
      this.chunks.shift();
      this.head = 0;
      if (this.chunks.length === 0) this.tailLen = CHUNK;
    }
  }
}

export class GradeWindow {
  private amount = new Float64Array(1024);
  private count = new Int32Array(1024);
  private readonly generated = new OrderQueue();
  private readonly earlier = new OrderQueue();
  private earlierAt = 0;

  /**
   * `existing`: PAID orders already in the database that may fall in a window (live ones), in time
   * order; they are counted once the clock reaches them.
   */
  constructor(private readonly existing: readonly WindowOrder[] = []) {}

  private ensure(user: number): void {
    if (user < this.amount.length) return;
    let size = this.amount.length;
    while (size <= user) size *= 2;
    const amount = new Float64Array(size);
    amount.set(this.amount);
    const count = new Int32Array(size);
    count.set(this.count);
    this.amount = amount;
    this.count = count;
  }

  private credit(user: number, amount: number): void {
    this.ensure(user);
    this.amount[user]! += amount;
    this.count[user]! += 1;
  }

  /** A generated PAID order; calls come in time order. */
  add(user: number, amount: number, ms: number): void {
    this.credit(user, amount);
    this.generated.push(user, amount, ms);
  }

  /** Moves the window to (boundMs, atMs]; checkpoints come in time order. */
  settle(atMs: number, boundMs: number): void {
    while (this.earlierAt < this.existing.length && this.existing[this.earlierAt]!.ms <= atMs) {
      const o = this.existing[this.earlierAt++]!;
      if (o.ms <= boundMs) continue;
      this.credit(o.user, o.amount);
      this.earlier.push(o.user, o.amount, o.ms);
    }
    const drop = (user: number, amount: number) => {
      this.amount[user]! -= amount;
      this.count[user]! -= 1;
    };
    this.generated.shiftUntil(boundMs, drop);
    this.earlier.shiftUntil(boundMs, drop);
  }

  grade(user: number): Grade {
    return user < this.amount.length ? gradeFor(this.amount[user] as number, this.count[user] as number) : "BRONZE";
  }
}

import type Redis from "ioredis";
import { GRADE_WINDOW_MONTHS } from "../domain/grades.ts";
import { within } from "../retry.ts";

// The clock the orders are drawn on (docs/design.md, "The shop's clock"). Live at --speed it is the
// wall clock. Under --rate a simulated day is `dayOrders` orders, lasting `dayMs` at the rate asked
// for: the producer says so in Redis, with the time of its latest order, so that what reads a time
// window (the grade updater's six months) reads it in simulated days and ends where the orders end.
// A producer on the wall clock clears it.

export interface ShopClockState {
  /** Real milliseconds per simulated day, at the rate asked for. */
  dayMs: number;
  /** Orders per simulated day: the clock itself (a simulated day is so many orders, however fast they go). */
  dayOrders: number;
  /** The latest order's created_at (epoch ms): the shop's "now" on that clock. */
  at: number;
}

const DAYS_PER_MONTH = 365.25 / 12;

export class ShopClock {
  readonly key: string;

  constructor(
    private readonly redis: Redis,
    prefix = "",
  ) {
    this.key = `${prefix}control:shop-clock`;
  }

  /** The simulated clock, or null for the wall clock (also when what is stored is not one). */
  async read(): Promise<ShopClockState | null> {
    const raw = await this.redis.get(this.key);
    if (raw === null) return null;
    try {
      const { dayMs, dayOrders, at } = JSON.parse(raw) as Partial<ShopClockState>;
      const positive = (x: unknown): x is number => typeof x === "number" && Number.isFinite(x) && x > 0;
      return positive(dayMs) && positive(dayOrders) && positive(at) ? { dayMs, dayOrders, at } : null;
    } catch {
      return null;
    }
  }

  async set(state: ShopClockState): Promise<void> {
    await this.redis.set(this.key, JSON.stringify(state));
  }

  async clear(): Promise<void> {
    await this.redis.del(this.key);
  }
}

/**
 * The clock a service goes by, looked at once per run. A clock whose latest order is older than the
 * service (less `graceMs`) is an earlier session's, left by a --rate run that ended: the wall clock's.
 * Once a clock has been taken it stays taken when it stops moving (the run ended; the grades of its
 * last six simulated months stand). Redis away: the last clock stays in force (none: the wall clock,
 * as before any --rate run), and `onError` is told.
 */
export class ShopClockFollower {
  private last: ShopClockState | null = null;

  constructor(
    private readonly clock: ShopClock,
    private readonly onError: (err: unknown) => void,
    private readonly startedMs = Date.now(),
    private readonly graceMs = 10_000,
    private readonly readTimeoutMs = 2000,
  ) {}

  async current(): Promise<ShopClockState | null> {
    let read: ShopClockState | null;
    try {
      read = await within(this.readTimeoutMs, "reading the shop's clock from Redis", this.clock.read());
    } catch (err) {
      this.onError(err);
      return this.last;
    }
    const taken = read && (read.at >= this.startedMs - this.graceMs || this.last !== null);
    this.last = taken ? read : null;
    return this.last;
  }
}

/** The grade window (GRADE_WINDOW_MONTHS) on a simulated clock, in orders. */
export function gradeWindowOrders(clock: ShopClockState): number {
  return GRADE_WINDOW_MONTHS * DAYS_PER_MONTH * clock.dayOrders;
}

import { type BuyerCandidate, OrderDraw, type ProductCandidate } from "./order-draw.ts";
import { ORDERS_PER_CUSTOMER_DAY, OrderSpacing } from "./order-spacing.ts";
import { BuyerPool } from "./buyer-pool.ts";
import { type SimUser, USER_SPLIT } from "./pools.ts";
import { topBuyers } from "./propensity.ts";
import type { Rng } from "./random.ts";
import { BASELINE, type Scenario } from "./scenarios.ts";
import type { Order } from "./types.ts";

// The producer's decision (docs/design.md, "Buyers"): at each cache generation, score every cached
// user and keep the top N, then draw each order with the order draw the historical year uses too
// (src/domain/order-draw.ts). Pure: the same rng, snapshot and clock give the same orders.

export type { BuyerCandidate, ProductCandidate };

/** A cached user as the rotation needs it: when they signed up and last ordered (ISO strings). */
export interface RotatingCandidate extends BuyerCandidate {
  created_at: string;
  last_ordered_at: string | null;
}

/** The orders one customer places a year in the historical year at scale 1 (51,500 over ~13,600). */
export const ORDERS_PER_CUSTOMER_YEAR = 3.8;

/**
 * Under `--rate R` (docs/design.md, "Realism at scale") the shop's clock runs so that R orders/s is
 * its normal traffic: a simulated day holds what its customers order in a day (customers × 3.8 / 365)
 * and lasts that many orders / R seconds. Every simulated day the buyer pool is re-split and
 * re-scored in memory, as the cache would split it, and nobody orders more than 3 times in one.
 */
export interface RateRotation {
  ordersPerSecond: number;
  ordersPerCustomerDay?: number;
}

export function simulatedDay(customers: number, ordersPerSecond: number): { orders: number; ms: number } {
  const orders = Math.max(1, (customers * ORDERS_PER_CUSTOMER_YEAR) / 365);
  return { orders, ms: (orders / ordersPerSecond) * 1000 };
}

export class OrderGenerator<U extends BuyerCandidate = BuyerCandidate, P extends ProductCandidate = ProductCandidate> {
  private readonly draw: OrderDraw<U, P>;
  /** The top-N of the current generation, highest score first. */
  top: readonly { user: U; score: number }[] = [];
  scenario: Scenario = BASELINE;

  private rotation: {
    settings: RateRotation;
    spacing: OrderSpacing;
    pool: BuyerPool | null;
    byId: Map<string, U>;
    simById: Map<string, SimUser>;
    /** Who this producer sold to last, and when: ahead of what the cache (via PostgreSQL) knows. */
    lastSold: Map<string, number>;
    ranked: readonly { user: U; score: number }[];
    dayOrders: number;
    sinceSplit: number;
  } | null = null;

  constructor(
    private readonly rng: Rng,
    private readonly topN = 200,
    rotation?: RateRotation,
    /** The producer instance (INSTANCE): its orders' ids name it, so no two instances mint the same id. */
    instance = 1,
  ) {
    this.draw = new OrderDraw<U, P>(instance);
    if (rotation) {
      this.rotation = {
        settings: rotation,
        spacing: new OrderSpacing(rotation.ordersPerCustomerDay ?? ORDERS_PER_CUSTOMER_DAY, 1),
        pool: null,
        byId: new Map(),
        simById: new Map(),
        lastSold: new Map(),
        ranked: [],
        dayOrders: 1,
        sinceSplit: 0,
      };
    }
  }

  /** Re-scores the cache (call at every cache reload) and rebuilds the draw tables. */
  refresh(users: readonly U[], products: readonly P[], at: Date, scenario: Scenario = this.scenario): void {
    this.scenario = scenario;
    // under --rate the cached users carry created_at and last_ordered_at (CachedUser does)
    if (this.rotation) this.rotate(users as unknown as readonly (U & RotatingCandidate)[], at);
    else {
      this.top = topBuyers(users, at, this.rng, this.topN);
      this.setBuyers(this.top);
    }
    this.draw.setProducts(products, scenario);
  }

  private setBuyers(top: readonly { user: U; score: number }[]): void {
    this.draw.setBuyers(top, this.scenario);
  }

  /** A new cache generation under --rate: the pool rebuilt from it, own recent sales kept at the back. */
  private rotate(users: readonly (U & RotatingCandidate)[], at: Date): void {
    const r = this.rotation!;
    const nowMs = at.getTime();
    for (const [id, ms] of r.lastSold) if (nowMs - ms > 3_600_000) r.lastSold.delete(id); // PostgreSQL has long caught up
    r.byId = new Map(users.map((u) => [u.id, u]));
    r.pool = new BuyerPool(
      users.map((u) => {
        const cached = u.last_ordered_at === null ? null : Date.parse(u.last_ordered_at);
        const sold = r.lastSold.get(u.id) ?? null;
        return {
          ...u,
          createdMs: Math.min(Date.parse(u.created_at), nowMs),
          lastOrderedMs: cached === null ? sold : Math.max(cached, sold ?? cached),
        };
      }),
      nowMs,
    );
    r.simById = new Map(r.pool.users.map((u) => [u.id, u]));
    const day = simulatedDay(users.length, r.settings.ordersPerSecond);
    r.dayOrders = day.orders;
    r.spacing.windowMs = day.ms;
    this.split(at);
  }

  /** The simulated day's pool: 600 longest since their last order + 400 newest never ordered, top N by score. */
  private split(at: Date): void {
    const r = this.rotation!;
    if (!r.pool) return;
    const pool = r.pool.split(USER_SPLIT).map((s) => r.byId.get(s.id) as U);
    // a simulated day spans every hour of the shop's day: ranked by the whole day's time-of-day
    // factor, or at night the older customers' 0.1 would keep them out of every day's top N, and
    // the never-ordered part of the pool (the newest who never bought) would stop rotating
    r.ranked = topBuyers(pool, at, this.rng, pool.length, { wholeDay: true });
    this.top = r.ranked.slice(0, this.topN);
    this.setBuyers(this.top);
    r.sinceSplit = 0;
  }

  get ready(): boolean {
    return this.draw.ready;
  }

  /** Under --rate: a new simulated day's pool once this one's orders are placed, then a draw that passes the ceiling. */
  private rotatingBuyer(at: Date): U {
    const r = this.rotation!;
    if (r.sinceSplit >= r.dayOrders) this.split(at);
    r.sinceSplit++;
    const ms = at.getTime();
    const { user } = r.spacing.pick(
      () => this.draw.buyer(this.rng),
      (b) => b.user.id,
      r.ranked,
      ms,
    );
    r.pool!.recordOrder(r.simById.get(user.id) as SimUser);
    r.lastSold.set(user.id, ms);
    return user;
  }

  /** Orders given to a customer already at the ceiling under --rate (0 unless the cache is tiny). */
  get spacingOverruns(): number {
    return this.rotation?.spacing.overruns ?? 0;
  }

  next(at: Date): Order {
    if (!this.draw.ready) throw new Error("order generator has no cached users or products yet");
    const user = this.rotation ? this.rotatingBuyer(at) : this.draw.buyer(this.rng).user;
    return this.draw.order(this.rng, user, at.getTime()).order;
  }
}

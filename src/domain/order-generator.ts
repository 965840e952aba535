import { APPETITE } from "./appetite.ts";
import { type BuyerCandidate, OrderDraw, type ProductCandidate } from "./order-draw.ts";
import { ORDERS_PER_CUSTOMER_DAY, OrderSpacing } from "./order-spacing.ts";
import { expectedScore, topBuyers } from "./propensity.ts";
import type { Rng } from "./random.ts";
import { BASELINE, demographicFactor, type Scenario } from "./scenarios.ts";
import type { Order } from "./types.ts";

// The producer's decision (docs/design.md, "Buyers"): at each cache generation, score every cached
// user and keep the top N (under --rate: everyone, by the score they average over days), then draw
// each order with the order draw the historical year uses too (src/domain/order-draw.ts). Pure:
// the same rng, snapshot and clock give the same orders.

export type { BuyerCandidate, ProductCandidate };

/** The orders one customer places a year in the historical year at scale 1 (51,500 over ~13,600). */
export const ORDERS_PER_CUSTOMER_YEAR = 3.8;

/**
 * Under `--rate R` (docs/design.md, "Realism at scale") the shop's clock runs so that R orders/s is
 * its normal traffic: a simulated day holds what its customers order in a day (customers × 4.5 / 365)
 * and lasts that many orders / R seconds. A cache generation spans many simulated days, so every
 * order is drawn from the whole cached base, each customer weighed by the score they average over
 * days × appetite^0.8, and nobody orders more than 3 times in a simulated day.
 */
export interface RateRotation {
  ordersPerSecond: number;
  ordersPerCustomerDay?: number;
}

/**
 * Under --rate, a customer's orders a year at the pace of the historical year's second half at
 * scale 1: its last 183 days hold 30,680 of its 51,500 orders over the 13,650 customers it ends
 * with. That half is the six-month window the year's final grades read (2.25 orders a customer), so
 * a grade window on the shop's clock holds what the grade targets were met on (docs/design.md,
 * "Realism at scale"; test/historical/plan.test.ts holds the two equal).
 */
export const RATE_ORDERS_PER_CUSTOMER_YEAR = 4.5;

export function simulatedDay(customers: number, ordersPerSecond: number): { orders: number; ms: number } {
  const orders = Math.max(1, (customers * RATE_ORDERS_PER_CUSTOMER_YEAR) / 365);
  return { orders, ms: (orders / ordersPerSecond) * 1000 };
}

export class OrderGenerator<U extends BuyerCandidate = BuyerCandidate, P extends ProductCandidate = ProductCandidate> {
  private readonly draw: OrderDraw<U, P>;
  /** The top-N of the current generation, highest score first. */
  top: readonly { user: U; score: number }[] = [];
  scenario: Scenario = BASELINE;
  private lastOrderMs: number | null = null;

  private rotation: {
    settings: RateRotation;
    spacing: OrderSpacing;
    /** The whole cached base by expected score, highest first: the draw's fallback at the ceiling. */
    ranked: readonly { user: U; score: number }[];
    dayOrders: number;
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
        ranked: [],
        dayOrders: 1,
      };
    }
  }

  /** Re-scores the cache (call at every cache reload) and rebuilds the draw tables. */
  refresh(users: readonly U[], products: readonly P[], at: Date, scenario: Scenario = this.scenario): void {
    this.scenario = scenario;
    if (this.rotation) this.rankWholeBase(users);
    else {
      this.top = topBuyers(users, at, this.rng, this.topN);
      this.setBuyers(this.top);
    }
    this.draw.setProducts(products, scenario);
  }

  private setBuyers(top: readonly { user: U; score: number }[]): void {
    this.draw.setBuyers(top, this.scenario, this.rotation ? APPETITE.rateDrawExponent : undefined);
  }

  /**
   * A new cache generation under --rate: everyone cached is a candidate for every order. Ranked by
   * the score they average over days (src/domain/propensity.ts), not one day's draw of boosts: the
   * generation lasts simulated years. Poisson-like arrivals, each customer's rate set by score ×
   * appetite^0.8, give the grades their tiers (docs/design.md, "Realism at scale").
   */
  private rankWholeBase(users: readonly U[]): void {
    const r = this.rotation!;
    const day = simulatedDay(users.length, r.settings.ordersPerSecond);
    r.dayOrders = day.orders;
    r.spacing.windowMs = day.ms;
    // nobody the scenario weighs at 0 (teens under parenting_bulk): never drawn, and no fallback at the ceiling either
    r.ranked = users
      .filter((user) => demographicFactor(this.scenario, user) > 0)
      .map((user) => ({ user, score: expectedScore(user) }))
      .sort((a, b) => b.score - a.score || (a.user.id < b.user.id ? -1 : a.user.id > b.user.id ? 1 : 0));
    this.top = r.ranked.slice(0, this.topN);
    this.setBuyers(r.ranked);
  }

  /** Under --rate every cached user is a candidate for every order (no top-N cut). */
  get drawsFromWholeBase(): boolean {
    return this.rotation !== null;
  }

  get ready(): boolean {
    return this.draw.ready;
  }

  /** Under --rate: a draw from the whole cached base that passes the ceiling. */
  private rateBuyer(at: Date): U {
    const r = this.rotation!;
    return r.spacing.pick(
      () => this.draw.buyer(this.rng),
      (b) => b.user.id,
      r.ranked,
      at.getTime(),
    ).user;
  }

  /**
   * Under --rate, the shop's clock: how long a simulated day lasts and when the latest order was
   * placed (src/cache/shop-clock.ts); null on the wall clock or before the first order.
   */
  get clock(): { dayMs: number; dayOrders: number; at: number } | null {
    const r = this.rotation;
    return r && r.ranked.length > 0 && this.lastOrderMs !== null
      ? { dayMs: r.spacing.windowMs, dayOrders: r.dayOrders, at: this.lastOrderMs }
      : null;
  }

  /** Orders given to a customer already at the ceiling under --rate (0 unless the cache is tiny). */
  get spacingOverruns(): number {
    return this.rotation?.spacing.overruns ?? 0;
  }

  next(at: Date): Order {
    if (!this.draw.ready) throw new Error("order generator has no cached users or products yet");
    this.lastOrderMs = at.getTime();
    const user = this.rotation ? this.rateBuyer(at) : this.draw.buyer(this.rng).user;
    return this.draw.order(this.rng, user, at.getTime()).order;
  }
}

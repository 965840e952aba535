// One simulated day's orders, decided in memory (docs/historical.md): at every simulated hour the pools are
// split as the cache would split them, buyers are re-scored with the live producer's propensity
// code on the simulated clock, and that hour's orders are drawn. No I/O: the caller writes.
import { generateUsers } from "../domain/fake.ts";
import { COUNTED_STATUSES } from "../domain/order-status.ts";
import { planLifecycle, type Transition } from "../lifecycle/plan.ts";
import { OrderDraw } from "../domain/order-draw.ts";
import { ORDERS_PER_CUSTOMER_DAY, OrderSpacing } from "../domain/order-spacing.ts";
import { topBuyers } from "../domain/propensity.ts";
import type { Rng } from "../domain/random.ts";
import { type Scenario, scenarioAt } from "../domain/scenarios.ts";
import type { Grade, Order, User } from "../domain/types.ts";
import type { GradeWindow } from "./grade-window.ts";
import { type DayPlan, DAY_MS, drawHourCounts, drawTimesInHour, HOUR_MS } from "./plan.ts";
import { PRODUCT_SPLIT, type SimProduct, type SimUser, type SplitSizes, USER_SPLIT } from "../domain/pools.ts";
import type { BuyerPool } from "../domain/buyer-pool.ts";
import type { ProductPool } from "../domain/product-pool.ts";

export interface GeneratorSettings {
  /** Buyers are drawn from the top N by propensity (PRODUCER_TOP_N). */
  topN: number;
  users: SplitSizes;
  products: SplitSizes;
  /** Days at the start whose buyers are random signed-up users (docs/historical.md: the first 7). */
  randomBuyerDays: number;
  /** No customer places more than this many orders in any 24 hours. */
  ordersPerCustomerDay: number;
  /** Each order's lifecycle is planned from this seed and recorded up to `untilMs` (the period's end). */
  lifecycle: { seed: string; untilMs: number };
}

/** The year's rules (docs/historical.md) around the producer's top N (PRODUCER_TOP_N, from the config). */
export function generatorSettings(topN: number, lifecycle: GeneratorSettings["lifecycle"]): GeneratorSettings {
  return { topN, users: USER_SPLIT, products: PRODUCT_SPLIT, randomBuyerDays: 7, ordersPerCustomerDay: ORDERS_PER_CUSTOMER_DAY, lifecycle };
}

export interface GradeChange {
  id: string;
  to: Grade;
}

export class HistoricalGenerator {
  private readonly draw = new OrderDraw<SimUser, SimProduct>();
  /** The whole split pool by score, best first: where a busy hour finds buyers once the top N reach the ceiling. */
  private ranked: readonly { user: SimUser; score: number }[] = [];
  private readonly spacing: OrderSpacing;
  /** Orders the plan asked for that could not be drawn (nobody signed up or nothing listed yet). */
  unplaced = 0;

  constructor(
    readonly buyers: BuyerPool,
    readonly products: ProductPool,
    readonly window: GradeWindow,
    private readonly rng: Rng,
    private readonly settings: GeneratorSettings,
  ) {
    this.spacing = new OrderSpacing(settings.ordersPerCustomerDay, DAY_MS);
  }

  /** Orders that had to go to a customer already at the daily ceiling (0 unless the pools are tiny). */
  get spacingOverruns(): number {
    return this.spacing.overruns;
  }

  /** Told of each simulated hour's pools (the clickstream browses the same catalogue and customers). */
  onRefresh?: (users: readonly SimUser[], products: readonly SimProduct[]) => void;

  /** Draws the day's orders in time order, handing each to `emit` with its transitions within the period and its hour's scenario. */
  day(plan: DayPlan, emit: (order: Order, done: readonly Transition[], scenario: Scenario) => void): number {
    const counts = drawHourCounts(plan.orders, this.rng);
    const randomBuyers = plan.index < this.settings.randomBuyerDays;
    this.spacing.prune(plan.start.getTime());
    let made = 0;
    for (let h = 0; h < 24; h++) {
      const n = counts[h] as number;
      if (n === 0) continue;
      const hourMs = plan.start.getTime() + h * HOUR_MS;
      const scenario = scenarioAt(new Date(hourMs));
      this.refresh(hourMs, scenario, randomBuyers);
      if (!this.draw.ready) {
        this.unplaced += n;
        continue;
      }
      for (const ms of drawTimesInHour(hourMs, n, this.rng)) {
        const { order, user } = this.next(ms);
        emit(order, this.lifecycleOf(order, user), scenario);
        made++;
      }
    }
    return made;
  }

  /**
   * The simulated cache reload: once per simulated hour (the hour is also the grain of the
   * time-of-day propensity), in place of the live cache's 50 s.
   */
  private refresh(atMs: number, scenario: Scenario, randomBuyers: boolean): void {
    this.buyers.advance(atMs);
    this.products.advance(atMs);
    const pool = randomBuyers ? this.buyers.sample(this.settings.users.total, this.rng) : this.buyers.split(this.settings.users);
    this.ranked = topBuyers(pool, new Date(atMs), this.rng, pool.length);
    this.draw.setBuyers(this.ranked.slice(0, this.settings.topN), scenario);
    const products = this.products.split(this.settings.products);
    this.draw.setProducts(products, scenario);
    this.onRefresh?.(pool, products);
  }

  private next(ms: number): { order: Order; user: SimUser } {
    const rng = this.rng;
    const { user } = this.spacing.pick(
      () => this.draw.buyer(rng),
      (b) => b.user.id,
      this.ranked,
      ms,
    );
    const { order, product } = this.draw.order(rng, user, ms);
    this.buyers.recordOrder(user, ms);
    this.products.recordOrder(product);
    return { order, user };
  }

  /**
   * The order's transitions that happen before the period ends, from its own plan. The grades count
   * it unless it ends the period cancelled or refunded: the rule the updater's SQL applies to the
   * stored rows, which hold the period's last status.
   */
  private lifecycleOf(order: Order, user: SimUser): Transition[] {
    const { seed, untilMs } = this.settings.lifecycle;
    const done = planLifecycle(order, seed).filter((t) => t.at.getTime() < untilMs);
    const status = done.length ? (done[done.length - 1] as Transition).to : order.status;
    if (COUNTED_STATUSES.includes(status)) this.window.add(user.idx, order.total_amount, order.created_at.getTime());
    return done;
  }

  /**
   * Grades at a checkpoint from the in-memory window (bound = checkpoint − 6 months, as PostgreSQL
   * computes it); updates the users' grades and returns who changed.
   */
  checkpoint(atMs: number, boundMs: number): GradeChange[] {
    this.window.settle(atMs, boundMs);
    const changes: GradeChange[] = [];
    for (const u of this.buyers.users) {
      const to = this.window.grade(u.idx);
      if (to !== u.grade) {
        changes.push({ id: u.id, to });
        u.grade = to;
      }
    }
    return changes;
  }
}

/**
 * The day's sign-ups (a steady trickle): fake users as the seeders make them, each signed up at its
 * own instant of the day; active ones logged in when they signed up.
 */
export function signUps(day: DayPlan, rng: Rng, takenEmails: Set<string>): User[] {
  if (day.newUsers === 0) return [];
  const dayMs = day.start.getTime();
  const times = new Float64Array(day.newUsers);
  for (let i = 0; i < times.length; i++) times[i] = dayMs + Math.floor(rng.next() * DAY_MS);
  times.sort();
  return generateUsers(rng, day.newUsers, day.start, { createdTimes: times, takenEmails }).map(asSignedUp);
}

/** A sign-up as the year records it: an active customer logged in when they signed up. */
export function asSignedUp(u: User): User {
  return { ...u, last_login_at: u.status === "ACTIVE" ? u.created_at : null };
}

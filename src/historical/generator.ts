// One simulated day's orders, decided in memory (docs/historical.md): at every simulated hour the pools are
// split as the cache would split them, buyers are re-scored with the live producer's propensity
// code on the simulated clock, and that hour's orders are drawn. No I/O: the caller writes.
import { type Category, CATEGORIES, drawQuantity } from "../domain/categories.ts";
import { generateUsers } from "../domain/fake.ts";
import { newId } from "../domain/ids.ts";
import { ORDERS_PER_CUSTOMER_DAY, OrderSpacing } from "../domain/order-spacing.ts";
import { buildOrder } from "../domain/orders.ts";
import { topBuyers } from "../domain/propensity.ts";
import { type Rng, WeightedTable } from "../domain/random.ts";
import { categoryWeight, demographicFactor, type Scenario, scenarioAt } from "../domain/scenarios.ts";
import type { Grade, Order, User } from "../domain/types.ts";
import type { GradeWindow } from "./grade-window.ts";
import { type DayPlan, DAY_MS, drawHourCounts, drawTimesInHour, HOUR_MS } from "./plan.ts";
import {
  type BuyerPool,
  PRODUCT_SPLIT,
  type ProductPool,
  type SimProduct,
  type SimUser,
  type SplitSizes,
  USER_SPLIT,
} from "../domain/pools.ts";

export interface GeneratorSettings {
  /** Buyers are drawn from the top N by propensity (PRODUCER_TOP_N). */
  topN: number;
  users: SplitSizes;
  products: SplitSizes;
  /** Days at the start whose buyers are random signed-up users (docs/historical.md: the first 7). */
  randomBuyerDays: number;
  /** No customer places more than this many orders in any 24 hours. */
  ordersPerCustomerDay: number;
}

export const DEFAULT_SETTINGS: GeneratorSettings = {
  topN: 200,
  users: USER_SPLIT,
  products: PRODUCT_SPLIT,
  randomBuyerDays: 7,
  ordersPerCustomerDay: ORDERS_PER_CUSTOMER_DAY,
};

export interface GradeChange {
  id: string;
  to: Grade;
}

interface CategoryGroup {
  category: Category;
  products: SimProduct[];
}

export class HistoricalGenerator {
  private buyerTable: WeightedTable<{ user: SimUser; score: number }> | null = null;
  /** The whole split pool by score, best first: where a busy hour finds buyers once the top N reach the ceiling. */
  private ranked: readonly { user: SimUser; score: number }[] = [];
  private readonly spacing: OrderSpacing;
  private categoryTable: WeightedTable<CategoryGroup> | null = null;
  /** Orders the plan asked for that could not be drawn (nobody signed up or nothing listed yet). */
  unplaced = 0;

  constructor(
    readonly buyers: BuyerPool,
    readonly products: ProductPool,
    readonly window: GradeWindow,
    private readonly rng: Rng,
    private readonly settings: GeneratorSettings = DEFAULT_SETTINGS,
  ) {
    this.spacing = new OrderSpacing(settings.ordersPerCustomerDay, DAY_MS);
  }

  /** Orders that had to go to a customer already at the daily ceiling (0 unless the pools are tiny). */
  get spacingOverruns(): number {
    return this.spacing.overruns;
  }

  /** Draws the day's orders in time order, handing each to `emit`. */
  day(plan: DayPlan, emit: (order: Order) => void): number {
    const counts = drawHourCounts(plan.orders, this.rng);
    const randomBuyers = plan.index < this.settings.randomBuyerDays;
    this.spacing.prune(plan.start.getTime());
    let made = 0;
    for (let h = 0; h < 24; h++) {
      const n = counts[h] as number;
      if (n === 0) continue;
      const hourMs = plan.start.getTime() + h * HOUR_MS;
      this.refresh(hourMs, scenarioAt(new Date(hourMs)), randomBuyers);
      if (!this.buyerTable || !this.categoryTable) {
        this.unplaced += n;
        continue;
      }
      for (const ms of drawTimesInHour(hourMs, n, this.rng)) {
        emit(this.next(ms));
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
    const top = this.ranked.slice(0, this.settings.topN);
    this.buyerTable = top.length ? new WeightedTable(top, (b) => b.score * demographicFactor(scenario, b.user)) : null;
    if (this.buyerTable && this.buyerTable.total <= 0) this.buyerTable = null;

    // Category first, by its order weight × the scenario's, then a product of that category from the
    // pool: each category's share follows its weight however the popular 700 happen to be made up.
    const byCategory = new Map<string, SimProduct[]>();
    for (const p of this.products.split(this.settings.products)) {
      const list = byCategory.get(p.category);
      if (list) list.push(p);
      else byCategory.set(p.category, [p]);
    }
    const groups: CategoryGroup[] = [];
    for (const category of CATEGORIES) {
      const products = byCategory.get(category.code);
      if (products) groups.push({ category, products });
    }
    this.categoryTable = groups.length
      ? new WeightedTable(groups, (g) => g.category.orderWeight * categoryWeight(scenario, g.category.code))
      : null;
    if (this.categoryTable && this.categoryTable.total <= 0) this.categoryTable = null;
  }

  private next(ms: number): Order {
    const rng = this.rng;
    const table = this.buyerTable!;
    const { user } = this.spacing.pick(
      () => table.draw(rng),
      (b) => b.user.id,
      this.ranked,
      ms,
    );
    const group = this.categoryTable!.draw(rng);
    const product = group.products[Math.floor(rng.next() * group.products.length)] as SimProduct;
    const order = buildOrder({
      id: newId("O_", rng, ms),
      user,
      product,
      quantity: drawQuantity(group.category, rng),
      at: new Date(ms),
      rng,
    });
    this.buyers.recordOrder(user);
    this.products.recordOrder(product);
    if (order.status === "PAID") this.window.add(user.idx, order.total_amount, ms);
    return order;
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
  return generateUsers(rng, day.newUsers, day.start, { createdAt: day.start, takenEmails }).map((u, i) => {
    const created = new Date(times[i] as number);
    return { ...u, id: newId("U_", rng, created.getTime()), created_at: created, last_login_at: u.status === "ACTIVE" ? created : null };
  });
}

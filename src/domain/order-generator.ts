import { CATEGORY_BY_CODE, drawQuantity } from "./categories.ts";
import { newId } from "./ids.ts";
import { buildOrder } from "./orders.ts";
import { topBuyers, type ScoreInput } from "./propensity.ts";
import { type Rng, WeightedTable } from "./random.ts";
import { BASELINE, demographicFactor, type Scenario } from "./scenarios.ts";
import type { Gender, Order } from "./types.ts";

// The producer's decision (SPEC 5): at each cache generation, score every cached user and keep the
// top N; for each order draw the buyer from those N weighted by score (× the scenario's gender/age
// factor), the product weighted by its category's order weight (× the scenario's category
// weight), the quantity by the category's weights. Pure: the same rng, snapshot and clock give
// the same orders.

export interface BuyerCandidate extends ScoreInput {
  id: string;
  gender: Gender;
  age: number;
  region: string;
}

export interface ProductCandidate {
  id: string;
  category: string;
  price: number;
}

export class OrderGenerator<U extends BuyerCandidate = BuyerCandidate, P extends ProductCandidate = ProductCandidate> {
  private buyerTable: WeightedTable<{ user: U; score: number }> | null = null;
  private productTable: WeightedTable<P> | null = null;
  /** The top-N of the current generation, highest score first. */
  top: readonly { user: U; score: number }[] = [];
  scenario: Scenario = BASELINE;

  constructor(private readonly rng: Rng, private readonly topN = 200) {}

  /** Re-scores the cache (call at every cache reload) and rebuilds the draw tables. */
  refresh(users: readonly U[], products: readonly P[], at: Date, scenario: Scenario = this.scenario): void {
    this.scenario = scenario;
    this.top = topBuyers(users, at, this.rng, this.topN);
    this.buyerTable = this.top.length ? new WeightedTable(this.top, (b) => b.score * demographicFactor(scenario, b.user)) : null;
    const known = products.filter((p) => CATEGORY_BY_CODE.has(p.category));
    this.productTable = known.length ? new WeightedTable(known, (p) => productWeight(p.category, scenario)) : null;
    if (this.productTable && this.productTable.total <= 0) this.productTable = null;
    if (this.buyerTable && this.buyerTable.total <= 0) this.buyerTable = null;
  }

  /** Switches the scenario without waiting for the next reload. */
  setScenario(scenario: Scenario, users: readonly U[], products: readonly P[], at: Date): void {
    this.refresh(users, products, at, scenario);
  }

  get ready(): boolean {
    return this.buyerTable !== null && this.productTable !== null;
  }

  next(at: Date): Order {
    if (!this.buyerTable || !this.productTable) throw new Error("order generator has no cached users or products yet");
    const { user } = this.buyerTable.draw(this.rng);
    const product = this.productTable.draw(this.rng);
    const category = CATEGORY_BY_CODE.get(product.category)!;
    return buildOrder({
      id: newId("O_", this.rng, at.getTime()),
      user,
      product,
      quantity: drawQuantity(category, this.rng),
      at,
      rng: this.rng,
    });
  }
}

export function productWeight(categoryCode: string, scenario: Scenario = BASELINE): number {
  const category = CATEGORY_BY_CODE.get(categoryCode);
  if (!category) return 0;
  return category.orderWeight * (scenario.categoryWeights[categoryCode] ?? 1);
}

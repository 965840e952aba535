import { appetiteOf, drawFactor } from "./appetite.ts";
import { CATEGORIES, type Category, drawQuantity } from "./categories.ts";
import { newId } from "./ids.ts";
import { buildOrder } from "./orders.ts";
import type { ScoreInput } from "./propensity.ts";
import { type Rng, WeightedTable } from "./random.ts";
import { categoryWeight, demographicFactor, type Scenario } from "./scenarios.ts";
import type { Gender, Order } from "./types.ts";

// The one order draw of the live producer and the historical year (docs/design.md, "Buyers"). The
// buyer comes from the top N by propensity (under --rate, the whole cached base), weighted by score ×
// the scenario's gender/age factor × the buyer's appetite^0.7 (^0.8 under --rate; src/domain/appetite.ts).
// The category comes first, weighted by its order weight × the scenario's category weight among the
// categories the offered products cover; then a product of that category, uniformly; then the
// quantity by the category's weights. Drawing the category first keeps each category's share at its
// weight however the offered products happen to be made up: the cache's 700 most ordered would
// otherwise lift whatever sold most, more with every reload.

export interface BuyerCandidate extends ScoreInput {
  id: string;
  gender: Gender;
  age: number;
  region: string;
  /** appetiteOf(id) (src/domain/appetite.ts), when the source worked it out already (the pools, the cache). */
  appetite?: number;
}

export interface ProductCandidate {
  id: string;
  category: string;
  price: number;
}

export interface ScoredBuyer<U> {
  user: U;
  score: number;
}

interface CategoryGroup<P> {
  category: Category;
  products: P[];
}

export class OrderDraw<U extends BuyerCandidate, P extends ProductCandidate> {
  /** `instance`: the producer instance whose ids the orders carry (src/domain/ids.ts). */
  constructor(private readonly instance = 1) {}

  private buyerTable: WeightedTable<ScoredBuyer<U>> | null = null;
  private categoryTable: WeightedTable<CategoryGroup<P>> | null = null;

  /**
   * The buyers to draw from (the top N, or everyone under --rate) under `scenario`'s gender and age
   * factors and their appetites (^APPETITE.drawExponent unless told: under --rate, rateDrawExponent).
   */
  setBuyers(top: readonly ScoredBuyer<U>[], scenario: Scenario, appetiteExponent?: number): void {
    const weight = (b: ScoredBuyer<U>) =>
      b.score * demographicFactor(scenario, b.user) * drawFactor(b.user.appetite ?? appetiteOf(b.user.id), appetiteExponent);
    this.buyerTable = nonEmpty(top.length ? new WeightedTable(top, weight) : null);
  }

  /** The products on offer, grouped by category (unknown categories are left out) and weighted under `scenario`. */
  setProducts(products: readonly P[], scenario: Scenario): void {
    const byCategory = new Map<string, P[]>();
    for (const p of products) {
      const list = byCategory.get(p.category);
      if (list) list.push(p);
      else byCategory.set(p.category, [p]);
    }
    const groups: CategoryGroup<P>[] = [];
    for (const category of CATEGORIES) {
      const list = byCategory.get(category.code);
      if (list) groups.push({ category, products: list });
    }
    this.categoryTable = nonEmpty(
      groups.length ? new WeightedTable(groups, (g) => g.category.orderWeight * categoryWeight(scenario, g.category.code)) : null,
    );
  }

  get ready(): boolean {
    return this.buyerTable !== null && this.categoryTable !== null;
  }

  /** One buyer, weighted by score × the scenario's factor. */
  buyer(rng: Rng): ScoredBuyer<U> {
    if (!this.buyerTable) throw new Error("the order draw has no buyers");
    return this.buyerTable.draw(rng);
  }

  /** The order `user` places at `atMs`: category, product, quantity, id, all from `rng`. */
  order(rng: Rng, user: U, atMs: number): { order: Order; product: P } {
    if (!this.categoryTable) throw new Error("the order draw has no products");
    const group = this.categoryTable.draw(rng);
    const product = group.products[Math.floor(rng.next() * group.products.length)] as P;
    const id = newId("O_", rng, atMs, this.instance);
    const quantity = drawQuantity(group.category, rng);
    return { order: buildOrder({ id, user, product, quantity, at: new Date(atMs), rng }), product };
  }
}

function nonEmpty<T>(table: WeightedTable<T> | null): WeightedTable<T> | null {
  return table && table.total > 0 ? table : null;
}

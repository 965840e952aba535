import { byCreated, NewestFirst, primaryNeeded, type SimProduct, type SplitSizes, splitPools } from "./pools.ts";

// Products on the simulated clock, for the split load replayed in memory (src/domain/pools.ts).

/** Products: who is listed, and the running order counts that make some of them popular. */
export class ProductPool {
  readonly products: SimProduct[];
  readonly counts: Int32Array;
  private arrivedCount = 0;
  private readonly neverOrdered = new NewestFirst();
  /** Rank of each product by id: the cache breaks order_count ties by id. */
  private readonly idRank: Int32Array;
  private readonly byIdRank: Int32Array;
  /** The most-ordered listed products, best first, as of the last split. */
  private top: number[] = [];
  private readonly touched: number[] = [];
  private readonly isTouched: Uint8Array;

  /** `orderCount` is each product's order count before the simulation starts. */
  constructor(products: readonly (Omit<SimProduct, "idx"> & { orderCount: number })[]) {
    if (products.length > 2 ** 21) throw new Error(`at most ${2 ** 21} products supported, got ${products.length}`);
    const sorted = [...products].sort(byCreated);
    this.products = sorted.map(({ orderCount: _, ...p }, idx) => ({ ...p, idx }));
    this.counts = Int32Array.from(sorted, (p) => p.orderCount);
    const ids = this.products
      .map((p) => p.idx)
      .sort((a, b) => {
        const x = (this.products[a] as SimProduct).id;
        const y = (this.products[b] as SimProduct).id;
        return x < y ? -1 : x > y ? 1 : 0;
      });
    this.byIdRank = Int32Array.from(ids);
    this.idRank = new Int32Array(ids.length);
    ids.forEach((idx, rank) => {
      this.idRank[idx] = rank;
    });
    this.isTouched = new Uint8Array(this.products.length);
  }

  /** Lists every product with created_at <= atMs. */
  advance(atMs: number): void {
    while (this.arrivedCount < this.products.length && (this.products[this.arrivedCount] as SimProduct).createdMs <= atMs) {
      const idx = this.arrivedCount++;
      if (this.counts[idx]! > 0) this.touch(idx);
      else this.neverOrdered.push(idx);
    }
  }

  get listed(): number {
    return this.arrivedCount;
  }

  recordOrder(p: SimProduct): void {
    this.counts[p.idx]! += 1;
    this.touch(p.idx);
  }

  private touch(idx: number): void {
    if (this.isTouched[idx]) return;
    this.isTouched[idx] = 1;
    this.touched.push(idx);
  }

  /** order_count descending, then id ascending, as one number (exact: below 2^53). */
  private key(idx: number): number {
    return (2 ** 31 - (this.counts[idx] as number)) * 2 ** 21 + (this.idRank[idx] as number);
  }

  /**
   * The cache's product split: `primary` by order_count (ties by id) + the newest never ordered.
   * Counts only grow, so the new ranking is the old one without the products ordered (or listed)
   * since, merged with those re-ranked: a few hundred steps, not a sort of the catalogue.
   */
  split(sizes: SplitSizes): SimProduct[] {
    if (this.touched.length > 0) {
      const moved = Float64Array.from(this.touched, (idx) => this.key(idx)).sort();
      const top: number[] = [];
      let i = 0;
      let j = 0;
      while (top.length < sizes.total && (i < this.top.length || j < moved.length)) {
        const stay = this.top[i];
        if (stay !== undefined && this.isTouched[stay]) {
          i++;
          continue;
        }
        if (stay !== undefined && (j >= moved.length || this.key(stay) < (moved[j] as number))) {
          top.push(stay);
          i++;
        } else top.push(this.byIdRank[(moved[j++] as number) % 2 ** 21] as number);
      }
      for (const idx of this.touched) this.isTouched[idx] = 0;
      this.touched.length = 0;
      this.top = top;
    }
    const fresh = this.neverOrdered.take(
      sizes.total,
      (idx) => this.counts[idx]! > 0,
      (idx) => this.products[idx] as SimProduct,
    );
    const want = primaryNeeded(sizes, fresh.length);
    const popular = this.top.slice(0, want).map((idx) => this.products[idx] as SimProduct);
    return splitPools(popular, fresh, sizes);
  }
}

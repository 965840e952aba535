// Fake catalogue listings (docs/design.md, "Catalogue and orders"): spread evenly over the nineteen categories, named like a Korean
// shop's listings.
import { CATEGORIES, drawPrice, priceQuantile, type Category } from "./categories.ts";
import { newId } from "./ids.ts";
import { PRODUCT_WORDS, PROMO_PREFIXES, type ProductItem, type ProductWords } from "./product-words.ts";
import type { Rng } from "./random.ts";
import type { Product } from "./types.ts";

const DAY_MS = 86_400_000;
const LISTING_SPAN_MS = 2 * 365 * DAY_MS;
/** A listing's discount off its list price, in percent (products.discount_rate). */
const MAX_LISTING_DISCOUNT_PCT = 60;

export interface GenerateProductsOptions {
  /** Listing time for every product (the live producer: "now"); default spread over 2 years before now. */
  createdAt?: Date;
  /** The producer instance minting them (src/domain/ids.ts); 1 by default. */
  instance?: number;
}

export function generateProducts(rng: Rng, count: number, now: Date, opts: GenerateProductsOptions = {}): Product[] {
  const nowMs = now.getTime();
  const fixedCreatedMs = opts.createdAt?.getTime();
  const products = new Array<Product>(count);
  // Categories go round in shuffled blocks of 19: every category gets its share within one product,
  // and a batch of one (the live producer) is still a random category.
  let block: Category[] = [];
  for (let i = 0; i < count; i++) {
    if (block.length === 0) block = shuffled(CATEGORIES, rng);
    products[i] = productOf(block.pop() as Category, rng, nowMs, fixedCreatedMs, opts.instance);
  }
  return products;
}

function productOf(category: Category, rng: Rng, nowMs: number, fixedCreatedMs?: number, instance = 1): Product {
  const words = PRODUCT_WORDS[category.code] as ProductWords;
  const createdMs = fixedCreatedMs ?? Math.floor(nowMs - rng.next() * LISTING_SPAN_MS);
  const brand = rng.pick(category.brands);
  const price = drawPrice(category, rng);
  const item = itemFor(words.items, priceQuantile(category, price), rng);
  const name = [
    rng.chance(0.25) ? rng.pick(PROMO_PREFIXES) : "",
    brand,
    rng.chance(0.7) ? rng.pick(words.lines) : "",
    rng.pick(words.adjectives),
    item.noun,
    rng.pick(item.options),
  ]
    .filter(Boolean)
    .join(" ");
  const { originalPrice, discountRate } = discountOf(price, rng);
  const rating = Math.round((5 - 4 * rng.next() ** 3) * 10) / 10;
  // Review counts are heavy-tailed: most listings have a few, some have thousands.
  const reviewCount = Math.floor(Math.expm1(rng.uniform(0, 9)));
  return {
    id: newId("P_", rng, createdMs, instance),
    name,
    category: category.code,
    brand,
    original_price: originalPrice,
    price,
    discount_rate: discountRate,
    description: `${rng.pick(words.pitches)} ${brand} ${item.noun}입니다.`,
    stock: rng.chance(0.03) ? 0 : 10 + Math.floor(990 * rng.next() ** 2),
    rating,
    review_count: reviewCount,
    is_best: (rating >= 4.5 && reviewCount >= 1000) || rng.chance(0.03),
    order_count: 0,
    created_at: new Date(createdMs),
  };
}

/** Cheap items for cheap prices (no 1,500,000 KRW mouse), with a little overlap between neighbours. */
function itemFor(items: readonly ProductItem[], quantile: number, rng: Rng): ProductItem {
  const k = Math.floor(quantile * items.length + rng.uniform(-0.6, 0.6));
  return items[Math.min(items.length - 1, Math.max(0, k))] as ProductItem;
}

/**
 * A list price above the sale price. The rate is recomputed from the two rounded prices so the three
 * columns always agree; flooring the list price keeps the rate at or under the drawn one.
 */
function discountOf(price: number, rng: Rng): { originalPrice: number; discountRate: number } {
  if (rng.chance(0.3)) return { originalPrice: price, discountRate: 0 };
  const drawn = 5 + Math.floor((MAX_LISTING_DISCOUNT_PCT - 5) * rng.next() ** 1.5);
  const originalPrice = Math.max(price, Math.floor(price / (1 - drawn / 100) / 100) * 100);
  return { originalPrice, discountRate: Math.round((1 - price / originalPrice) * 100) };
}

function shuffled<T>(items: readonly T[], rng: Rng): T[] {
  const out = items.slice();
  for (let i = out.length - 1; i > 0; i--) {
    const j = rng.int(0, i);
    const t = out[i] as T;
    out[i] = out[j] as T;
    out[j] = t;
  }
  return out;
}

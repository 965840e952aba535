// Each customer's appetite (docs/design.md, "Appetite"): a persistent multiplier on how often they
// come back, heavy-tailed and fixed by the customer's id. Ids are drawn from the seed, so the same
// seed gives the same appetites; PostgreSQL computes the same value from the same id (APPETITE_SQL),
// so the cache's split and the in-memory pools rank customers alike.

/**
 * x = Pareto(x_m = 1, α) softly capped: appetite = cap·x / (cap + x), so the tail bends towards the
 * cap instead of piling onto it. `drawExponent`: a buyer's weight in the order draw is multiplied
 * by appetite^drawExponent (below 1: the hungriest are favoured, not left to crowd out the rest).
 * `rateDrawExponent`: the same under --rate, where every order is an independent draw from the
 * whole base and no due order favours the hungry besides (docs/design.md, "Realism at scale").
 */
export const APPETITE = { alpha: 0.8, cap: 60, drawExponent: 0.7, rateDrawExponent: 0.8 } as const;

/**
 * How long after an order a customer of appetite 1 is due again, on the shop's clock: the split
 * load takes the buyers longest past due first. Only ratios matter to the order; the scale sets how
 * much appetite outweighs plain time since the last order.
 */
export const DUE_GAP_DAYS = 96;
export const DUE_GAP_MS = DUE_GAP_DAYS * 86_400_000;

const TWO_32 = 4_294_967_296;

/** The customer's appetite, from the first 32 bits of md5(id) as a uniform draw. */
export function appetiteOf(id: string): number {
  const u = (Number.parseInt(Bun.CryptoHasher.hash("md5", id, "hex").slice(0, 8), 16) + 0.5) / TWO_32;
  const x = u ** (-1 / APPETITE.alpha);
  return (APPETITE.cap * x) / (APPETITE.cap + x);
}

/** A buyer's factor in the order draw (src/domain/order-draw.ts); `exponent` under --rate is APPETITE.rateDrawExponent. */
export function drawFactor(appetite: number, exponent: number = APPETITE.drawExponent): number {
  return appetite ** exponent;
}

/** When a customer who last ordered at `lastOrderedMs` is due again, `gapMs` being DUE_GAP_MS on the clock the orders are drawn on. */
export function dueMs(lastOrderedMs: number, appetite: number, gapMs = DUE_GAP_MS): number {
  return lastOrderedMs + gapMs / appetite;
}

/** x in double precision (numeric power would be slow), md5 once per row. */
const PARETO = `power(((('x' || lpad(substr(md5(id), 1, 8), 16, '0'))::bit(64)::bigint)::float8 + 0.5) / ${TWO_32}.0, ${-1 / APPETITE.alpha})`;

/** appetiteOf in SQL, over a text column `id`: the cache's split ranks by it. */
export const APPETITE_SQL = `(select ${APPETITE.cap} * x / (${APPETITE.cap} + x) from (select ${PARETO} as x) p)`;

// How big the shop is at a given volume (docs/design.md, "Realism at scale"). Orders grow with
// `--scale`; for each customer to keep the same habits (orders a year, basket, grade mix) the customer
// base and the daily sign-ups grow in proportion. The catalogue grows with the square root: a shop
// selling twenty times as much widens its range, it does not list twenty times the products.

export interface ShopSize {
  users: number;
  products: number;
  signUpsPerDay: number;
}

/** Scale 1: the initial seed and 10 sign-ups a day. */
export const BASE_SHOP: ShopSize = { users: 10_000, products: 20_000, signUpsPerDay: 10 };

export function shopSize(scale: number, base: ShopSize = BASE_SHOP): ShopSize {
  if (!(scale > 0) || !Number.isFinite(scale)) throw new Error(`scale must be a positive number, got ${scale}`);
  return {
    users: Math.round(base.users * scale),
    products: Math.round(base.products * Math.sqrt(scale)),
    signUpsPerDay: base.signUpsPerDay * scale,
  };
}

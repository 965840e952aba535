import { expect, test } from "bun:test";
import { BASE_SHOP, shopSize } from "../../src/domain/shop-size.ts";

test("scale 1 is the seeded shop; customers and sign-ups grow in proportion, the catalogue by √scale", () => {
  expect(shopSize(1)).toEqual(BASE_SHOP);
  expect(shopSize(20)).toEqual({ users: 200_000, products: 89_443, signUpsPerDay: 200 });
  expect(shopSize(4, { users: 3_000, products: 2_000, signUpsPerDay: 5 })).toEqual({ users: 12_000, products: 4_000, signUpsPerDay: 20 });
});

test("a scale that is not a positive number is refused", () => {
  for (const bad of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) expect(() => shopSize(bad)).toThrow("scale must be a positive number");
});

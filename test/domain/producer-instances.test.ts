import { describe, expect, test } from "bun:test";
import { generateProducts, generateUsers } from "../../src/domain/fake.ts";
import { idInstance } from "../../src/domain/ids.ts";
import { OrderGenerator } from "../../src/domain/order-generator.ts";
import { instanceSeed, Rng } from "../../src/domain/random.ts";

// Several producers on one SEED (docs/design.md, "Several producers"), wired as
// src/services/producer.ts wires one: the instance's seed, then the orders and products forks.

const SEED = "42";
const NOW = new Date("2026-03-10T11:00:00Z");
const users = generateUsers(new Rng("instances-users"), 1000, NOW);
const products = generateProducts(new Rng("instances-products"), 1000, NOW);

/** What producer `instance` publishes first: `orders` orders and `listings` new products, all in the same millisecond. */
function produce(instance: number, orders: number, listings: number) {
  const rng = new Rng(instanceSeed(SEED, instance));
  const generator = new OrderGenerator(rng.fork("orders"), 200, undefined, instance);
  const productRng = rng.fork("products");
  generator.refresh(users, products, NOW);
  return {
    orders: Array.from({ length: orders }, () => generator.next(NOW)),
    listings: Array.from({ length: listings }, () => generateProducts(productRng, 1, NOW, { createdAt: NOW, instance })[0]!),
  };
}

describe("instanceSeed", () => {
  test("instance 1 draws from SEED itself; every other instance from a seed of its own", () => {
    expect(instanceSeed("42", 1)).toBe("42");
    const seeds = [1, 2, 3, 10].map((i) => instanceSeed("42", i));
    expect(new Set(seeds).size).toBe(4);
    expect(instanceSeed("42", 2)).toBe(instanceSeed("42", 2));
    expect(instanceSeed("7", 2)).not.toBe(instanceSeed("42", 2));
  });
});

describe("two producers on one SEED", () => {
  const one = produce(1, 20_000, 200);
  const two = produce(2, 20_000, 200);

  test("never share an order id or a product id, and each mints its own", () => {
    const orderIds = [...one.orders, ...two.orders].map((o) => o.id);
    expect(new Set(orderIds).size).toBe(40_000);
    const productIds = [...one.listings, ...two.listings].map((p) => p.id);
    expect(new Set(productIds).size).toBe(400);
    expect(one.orders.every((o) => idInstance(o.id) === 1)).toBe(true);
    expect(two.orders.every((o) => idInstance(o.id) === 2)).toBe(true);
    expect(two.listings.every((p) => idInstance(p.id) === 2)).toBe(true);
  });

  test("draw different streams: other buyers, not only other ids", () => {
    const buyers = (orders: { user_id: string }[]) => orders.slice(0, 100).map((o) => o.user_id);
    expect(buyers(two.orders)).not.toEqual(buyers(one.orders));
  });

  test("the same seed and instance give the same ids again", () => {
    const again = produce(2, 20_000, 200);
    expect(again.orders.map((o) => o.id)).toEqual(two.orders.map((o) => o.id));
    expect(again.listings.map((p) => p.id)).toEqual(two.listings.map((p) => p.id));
  });

  test("instance 1 publishes exactly what a producer published before instances existed", () => {
    // recorded from the producer's wiring before INSTANCE took part (new Rng(SEED), no instance anywhere)
    const { orders, listings } = produce(1, 1000, 20);
    expect([orders[0]!.id, orders[999]!.id, listings[0]!.id]).toEqual([
      "O_019cd767-5780-7698-b070-936751b0eccc",
      "O_019cd767-5780-73b7-b85a-b6ec8d510b7a",
      "P_019cd767-5780-7587-b690-db7126e6f43f",
    ]);
    // and every order and listing is what the wiring without INSTANCE makes: SEED itself, no instance argument
    const rng = new Rng(SEED);
    const plain = new OrderGenerator(rng.fork("orders"), 200);
    const productRng = rng.fork("products");
    plain.refresh(users, products, NOW);
    expect(orders).toEqual(Array.from({ length: 1000 }, () => plain.next(NOW)));
    expect(listings).toEqual(Array.from({ length: 20 }, () => generateProducts(productRng, 1, NOW, { createdAt: NOW })[0]!));
  });
});

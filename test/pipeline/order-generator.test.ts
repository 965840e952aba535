import { describe, expect, test } from "bun:test";
import { CATEGORIES, CATEGORY_BY_CODE } from "../../src/domain/categories.ts";
import { generateProducts, generateUsers } from "../../src/domain/fake.ts";
import { OrderGenerator, simulatedDay } from "../../src/domain/order-generator.ts";
import { baseScore } from "../../src/domain/propensity.ts";
import { Rng } from "../../src/domain/random.ts";
import { BASELINE, scenarioById } from "../../src/domain/scenarios.ts";

const NOW = new Date("2026-03-10T11:00:00Z"); // 20:00 in Seoul, the evening peak
const users = generateUsers(new Rng("gen-users"), 1000, NOW);
const products = generateProducts(new Rng("gen-products"), 1000, NOW);

function run(seed: string, n: number, scenario = BASELINE) {
  const gen = new OrderGenerator(new Rng(seed), 200);
  gen.refresh(users, products, NOW, scenario);
  const orders = Array.from({ length: n }, () => gen.next(NOW));
  return { gen, orders };
}

describe("OrderGenerator (the producer's decision)", () => {
  test("every buyer is among the top 200 by score of the cache generation", () => {
    const { gen, orders } = run("top", 5000);
    expect(gen.top).toHaveLength(200);
    const top = new Set(gen.top.map((b) => b.user.id));
    const cutoff = gen.top[199]!.score;
    expect(gen.top.every((b, i) => i === 0 || gen.top[i - 1]!.score >= b.score)).toBe(true);
    expect(orders.every((o) => top.has(o.user_id))).toBe(true);
    // the top 200 really are the highest: a user outside never out-scores the cut-off by a whole life event
    expect(new Set(orders.map((o) => o.user_id)).size).toBeGreaterThan(100);
    expect(cutoff).toBeGreaterThan(0);
  });

  test("DORMANT users order less often than ACTIVE ones, as their scores predict", () => {
    const { gen, orders } = run("dormant", 20_000);
    const byId = new Map(users.map((u) => [u.id, u]));
    const isDormant = (id: string) => byId.get(id)!.status === "DORMANT";
    const dormantUsers = users.filter((u) => isDormant(u.id)).length;
    const dormantOrders = orders.filter((o) => isDormant(o.user_id)).length;
    // orders per user: a DORMANT user buys at most 80 % as often as an ACTIVE one
    const dormantRate = dormantOrders / dormantUsers;
    const activeRate = (orders.length - dormantOrders) / (users.length - dormantUsers);
    expect(dormantRate).toBeLessThan(0.8 * activeRate);
    // and the observed share is the one the top-200 scores predict
    const total = gen.top.reduce((s, b) => s + b.score, 0);
    const predicted = gen.top.filter((b) => isDormant(b.user.id)).reduce((s, b) => s + b.score, 0) / total;
    expect(Math.abs(dormantOrders / orders.length - predicted)).toBeLessThan(0.015);
    const active = users.filter((u) => u.status === "ACTIVE").map(baseScore);
    const dormant = users.filter((u) => u.status === "DORMANT").map(baseScore);
    expect(Math.max(...dormant)).toBeLessThan(Math.max(...active));
  });

  test("category shares of 10,000 orders are within ±2 pp of their order weights, whatever the cache holds of each", () => {
    // a cache that holds five times as many FRESH products as the catalogue's even spread: the share stays FRESH's weight
    const skewed = [...products, ...generateProducts(new Rng("fresh-heavy"), 400, NOW).map((p) => ({ ...p, category: "FRESH" }))];
    for (const offer of [products, skewed]) {
      const gen = new OrderGenerator(new Rng("categories"), 200);
      gen.refresh(users, offer, NOW);
      const orders = Array.from({ length: 10_000 }, () => gen.next(NOW));
      const present = CATEGORIES.filter((c) => offer.some((p) => p.category === c.code));
      const totalWeight = present.reduce((s, c) => s + c.orderWeight, 0);
      for (const c of present) {
        const actual = orders.filter((o) => o.category === c.code).length / orders.length;
        expect([c.code, Math.abs(actual - c.orderWeight / totalWeight) <= 0.02]).toEqual([c.code, true]);
      }
    }
  });

  test("a scenario shifts the mix: male IT rush raises IT/gaming's share", () => {
    const base = run("scenario", 10_000).orders.filter((o) => o.category === "IT_GAMING").length;
    const rush = run("scenario", 10_000, scenarioById("male_it_rush")).orders.filter((o) => o.category === "IT_GAMING").length;
    expect(rush).toBeGreaterThan(base * 2);
  });

  test("quantities stay within the category's range; same seed and clock give the same orders", () => {
    const a = run("same", 500).orders;
    const b = run("same", 500).orders;
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
    expect(JSON.stringify(run("other", 500).orders)).not.toBe(JSON.stringify(a));
    for (const o of a) expect(o.quantity).toBeLessThanOrEqual(CATEGORY_BY_CODE.get(o.category)!.quantityWeights.length);
  });
});

describe("OrderGenerator under --rate (buyers rotate every simulated day)", () => {
  const shop = generateUsers(new Rng("rate-users"), 5000, NOW).map((u) => ({
    ...u,
    created_at: u.created_at.toISOString(),
    last_ordered_at: null,
  }));

  function rateRun(seed: string, n: number, rate: number, start = NOW, scenario = BASELINE) {
    const gen = new OrderGenerator(new Rng(seed), 200, { ordersPerSecond: rate });
    gen.refresh(shop, products, start, scenario);
    // the rate loop's clock: order i at i / rate seconds
    const orders = Array.from({ length: n }, (_, i) => gen.next(new Date(start.getTime() + Math.floor((i * 1000) / rate))));
    return { gen, orders };
  }

  test("a simulated day is what the customers order in a day: customers × 3.8 / 365, lasting that many orders / rate", () => {
    expect(simulatedDay(10_000, 3000)).toEqual({ orders: (10_000 * 3.8) / 365, ms: ((10_000 * 3.8) / 365 / 3000) * 1000 });
  });

  test("orders spread over the customer base and nobody exceeds 3 orders in a simulated day", () => {
    const rate = 3000;
    const { gen, orders } = rateRun("rate", 60_000, rate);
    const dayMs = simulatedDay(shop.length, rate).ms;
    const times = new Map<string, number[]>();
    for (const o of orders) times.set(o.user_id, [...(times.get(o.user_id) ?? []), o.created_at.getTime()]);
    for (const ts of times.values()) for (let i = 3; i < ts.length; i++) expect(ts[i]! - ts[i - 3]!).toBeGreaterThanOrEqual(dayMs);
    expect(gen.spacingOverruns).toBe(0);
    // 60,000 orders are 12 orders a customer: the rotation reaches nearly everyone, nobody takes 10×
    expect(times.size).toBeGreaterThan(shop.length * 0.9);
    expect(Math.max(...[...times.values()].map((t) => t.length))).toBeLessThan(120);
  });

  test("the rotation reaches the whole base at night too, when the hour's factors favour the young", () => {
    // 02:00 in Seoul under the late-night preset: ranked at that hour alone, the over-50s' 0.1 kept
    // the newest never-ordered customers out of every day's top 200, and the pool stopped rotating
    const night = new Date("2026-03-10T17:00:00Z");
    const { orders } = rateRun("night", 60_000, 3000, night, scenarioById("late_night_small"));
    expect(new Set(orders.map((o) => o.user_id)).size).toBeGreaterThan(shop.length * 0.9);
  });

  test("the propensity ranking still decides: higher base scores buy more often", () => {
    const { orders } = rateRun("rank", 60_000, 3000);
    const byId = new Map(shop.map((u) => [u.id, u]));
    const counts = new Map<string, number>();
    for (const o of orders) counts.set(o.user_id, (counts.get(o.user_id) ?? 0) + 1);
    const mean = (list: typeof shop) => list.reduce((s, u) => s + (counts.get(u.id) ?? 0), 0) / list.length;
    const sorted = [...shop].sort((a, b) => baseScore(a) - baseScore(b));
    expect(mean(sorted.slice(-1000))).toBeGreaterThan(mean(sorted.slice(0, 1000)) * 1.3);
    expect(byId.size).toBe(shop.length);
  });

  test("the same seed gives the same orders", () => {
    expect(rateRun("same", 2000, 3000).orders).toEqual(rateRun("same", 2000, 3000).orders);
  });
});

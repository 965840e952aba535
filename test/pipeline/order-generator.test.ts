import { appetiteOf, drawFactor } from "../../src/domain/appetite.ts";
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
    // and the observed share is the one the top-200 scores and appetites predict
    const weight = (b: (typeof gen.top)[number]) => b.score * drawFactor(appetiteOf(b.user.id));
    const total = gen.top.reduce((s, b) => s + weight(b), 0);
    const predicted = gen.top.filter((b) => isDormant(b.user.id)).reduce((s, b) => s + weight(b), 0) / total;
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

describe("OrderGenerator under --rate (every order drawn from the whole cached base)", () => {
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

  test("a simulated day is what the customers order in a day: customers × 4.5 / 365, lasting that many orders / rate", () => {
    expect(simulatedDay(10_000, 3000)).toEqual({ orders: (10_000 * 4.5) / 365, ms: ((10_000 * 4.5) / 365 / 3000) * 1000 });
  });

  test("orders spread over the customer base and nobody exceeds 3 orders in a simulated day", () => {
    const rate = 3000;
    const { gen, orders } = rateRun("rate", 60_000, rate);
    const dayMs = simulatedDay(shop.length, rate).ms;
    const times = new Map<string, number[]>();
    for (const o of orders) times.set(o.user_id, [...(times.get(o.user_id) ?? []), o.created_at.getTime()]);
    for (const ts of times.values()) for (let i = 3; i < ts.length; i++) expect(ts[i]! - ts[i - 3]!).toBeGreaterThanOrEqual(dayMs);
    expect(gen.spacingOverruns).toBe(0);
    // 60,000 orders are 12 orders a customer: the draw reaches nearly everyone, and the most
    // orders go to the hungriest customers (their appetite), not to whoever the ranking favours
    expect(times.size).toBeGreaterThan(shop.length * 0.9);
    const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const busiest = [...times].sort((a, b) => b[1].length - a[1].length).slice(0, 100);
    expect(median(busiest.map(([id]) => appetiteOf(id)))).toBeGreaterThan(4 * median(shop.map((u) => appetiteOf(u.id))));
  });

  test("the draw reaches the whole base at night too: the wall clock's hour weighs nobody", () => {
    // 02:00 in Seoul: weighed at that hour alone, the over-50s' 0.1 would all but shut them out; a
    // simulated day spans every hour, so the same seed picks the same buyers at night as at noon
    const night = new Date("2026-03-10T17:00:00Z");
    const noon = new Date("2026-03-10T03:00:00Z");
    const buyers = (start: Date) => rateRun("night", 20_000, 3000, start).orders.map((o) => o.user_id);
    expect(buyers(night)).toEqual(buyers(noon));
    const { orders } = rateRun("night", 60_000, 3000, night, scenarioById("late_night_small"));
    expect(new Set(orders.map((o) => o.user_id)).size).toBeGreaterThan(shop.length * 0.9);
  });

  test("nobody the scenario weighs at 0 buys, not even when the ceiling passes a buyer over", () => {
    // parenting_bulk weighs teens at 0 (the shop signs up adults; these ten are made 17). 100 orders
    // in one instant: the 20 adults reach the ceiling after 60, and the fallback looks for anyone
    // below it
    const few = shop.slice(0, 30).map((u, i) => (i < 10 ? { ...u, age: 17 } : u));
    const isTeen = (u: (typeof few)[number]) => u.age === 17;
    const gen = new OrderGenerator(new Rng("zero-weight"), 200, { ordersPerSecond: 3000 });
    gen.refresh(few, products, NOW, scenarioById("parenting_bulk"));
    const buyers = new Set(Array.from({ length: 100 }, () => gen.next(NOW).user_id));
    const teens = few.filter(isTeen).map((u) => u.id);
    expect(teens).toHaveLength(10);
    for (const id of teens) expect(buyers.has(id)).toBe(false);
    expect(buyers.size).toBe(few.length - teens.length);
    expect(gen.spacingOverruns).toBe(40);
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

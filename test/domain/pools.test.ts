import { expect, test } from "bun:test";
import { Rng } from "../../src/domain/random.ts";
import { BuyerPool } from "../../src/domain/buyer-pool.ts";
import { type SimProduct, splitPools } from "../../src/domain/pools.ts";
import { ProductPool } from "../../src/domain/product-pool.ts";

const T0 = Date.parse("2025-01-01T00:00:00Z");
const MIN = 60_000;

function user(i: number, createdMs: number, lastOrderedMs: number | null = null) {
  return {
    id: `U_${String(i).padStart(4, "0")}`,
    gender: "F" as const,
    age: 30,
    region: "서울",
    status: "ACTIVE" as const,
    marketing_opt_in: true,
    grade: "BRONZE" as const,
    createdMs,
    lastOrderedMs,
  };
}

test("users: with appetite left out (a due gap of 0), buyers by oldest last order, then the newest who never ordered; nobody before sign-up", () => {
  // U_0..U_9 ordered before (U_9 longest ago), U_10..U_19 never; U_20 signs up an hour in
  const users = [
    ...Array.from({ length: 10 }, (_, i) => user(i, T0 - 1000 * MIN, T0 - (i + 1) * MIN)),
    ...Array.from({ length: 10 }, (_, i) => user(10 + i, T0 - (100 - i) * MIN)),
    user(20, T0 + 60 * MIN),
  ];
  const pool = new BuyerPool(users, T0, 0);
  const ids = (xs: { id: string }[]) => xs.map((u) => Number(u.id.slice(2)));
  expect(ids(pool.split({ total: 6, primary: 4 }))).toEqual([9, 8, 7, 6, 19, 18]);
  // U_9 orders: it goes to the back of the queue
  pool.recordOrder(pool.users.find((u) => u.id === "U_0009")!, T0);
  expect(ids(pool.split({ total: 6, primary: 4 }))).toEqual([8, 7, 6, 5, 19, 18]);
  // a never-ordered user orders: leaves the newest side, joins the queue's back
  pool.recordOrder(pool.users.find((u) => u.id === "U_0019")!, T0 + 1);
  expect(ids(pool.split({ total: 6, primary: 4 }))).toEqual([8, 7, 6, 5, 18, 17]);
  expect(ids(pool.split({ total: 30, primary: 4 })).includes(20)).toBe(false);
  pool.advance(T0 + 60 * MIN);
  expect(ids(pool.split({ total: 6, primary: 4 }))).toEqual([8, 7, 6, 5, 20, 18]);
  // either side fills the other's gap
  expect(ids(pool.split({ total: 25, primary: 20 })).length).toBe(21);
  expect(ids(pool.split({ total: 12, primary: 2 }))).toEqual([8, 7, 20, 18, 17, 16, 15, 14, 13, 12, 11, 10]);
});

test("users: sign-ups added later wait for their created_at and merge in time order", () => {
  const pool = new BuyerPool([user(1, T0 - MIN), user(2, T0 + 30 * MIN)], T0);
  pool.addSignUps([user(3, T0 + 10 * MIN), user(4, T0 + 50 * MIN)]);
  expect(pool.arrivedCount).toBe(1);
  pool.advance(T0 + 40 * MIN);
  expect(pool.split({ total: 10, primary: 5 }).map((u) => u.id)).toEqual(["U_0002", "U_0003", "U_0001"]);
  const sample = pool.sample(2, new Rng("s"));
  expect(new Set(sample.map((u) => u.id)).size).toBe(2);
  expect(pool.sample(10, new Rng("s")).length).toBe(3);
});

test("products: the incremental top by order count equals a full sort, new listings join the fresh side", () => {
  const rng = new Rng("products");
  const n = 3000;
  const seeds = Array.from({ length: n }, (_, i) => ({
    id: `P_${rng.nextUint32().toString(16).padStart(8, "0")}`,
    category: "FRESH",
    price: 1000,
    createdMs: T0 + (i - 2000) * MIN,
    orderCount: i % 7 === 0 ? rng.int(1, 5) : 0,
  }));
  const pool = new ProductPool(seeds);
  const sizes = { total: 100, primary: 70 };
  let now = T0;
  for (let step = 0; step < 200; step++) {
    now += 5 * MIN;
    pool.advance(now);
    const split = pool.split(sizes);
    const listed = pool.products.filter((p) => p.createdMs <= now);
    const popular = listed
      .filter((p) => pool.counts[p.idx]! > 0)
      .sort((a, b) => pool.counts[b.idx]! - pool.counts[a.idx]! || (a.id < b.id ? -1 : 1));
    const fresh = listed.filter((p) => pool.counts[p.idx] === 0).reverse();
    const want = [...popular.slice(0, 70), ...fresh.slice(0, 30)];
    expect(split.map((p) => p.id)).toEqual(want.map((p) => p.id));
    // order a few pool products, popular ones more often
    for (let k = 0; k < 20; k++) pool.recordOrder(split[Math.floor(rng.next() ** 2 * split.length)] as SimProduct);
  }
});

test("the split takes the primary share, fills either side's gap, and never repeats a member of overlapping pools", () => {
  const rng = new Rng("split");
  for (let k = 0; k < 500; k++) {
    const a = Array.from({ length: rng.int(0, 30) }, (_, i) => ({ id: `a${i}` }));
    const b = Array.from({ length: rng.int(0, 30) }, (_, i) => ({ id: `b${i}` }));
    const total = rng.int(0, 40);
    const primary = rng.int(0, total);
    const sizes = { total, primary };
    // disjoint pools: the fast path and the de-duplicating merge agree
    const split = splitPools(a, b, sizes);
    expect(splitPools(a, b, sizes, { overlap: true })).toEqual(split);
    expect(split).toHaveLength(Math.min(total, a.length + b.length));
    const fromA = split.filter((x) => x.id.startsWith("a")).length;
    expect(fromA).toBe(Math.min(a.length, Math.max(primary, total - b.length)));
    // overlapping pools: a shared member is taken once, and the gap is filled from the rest
    const shared = [...b.slice(0, 5), ...a];
    const merged = splitPools(shared, b, sizes, { overlap: true });
    expect(new Set(merged.map((x) => x.id)).size).toBe(merged.length);
    expect(merged).toHaveLength(Math.min(total, new Set([...shared, ...b].map((x) => x.id)).size));
  }
});

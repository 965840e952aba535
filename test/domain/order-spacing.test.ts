import { expect, test } from "bun:test";
import { OrderSpacing } from "../../src/domain/order-spacing.ts";
import { Rng } from "../../src/domain/random.ts";

const H = 3_600_000;

test("a customer gets at most `limit` orders inside any window; the window slides", () => {
  const s = new OrderSpacing(3, 24 * H);
  for (const t of [0, 1 * H, 2 * H]) {
    expect(s.allows("a", t)).toBe(true);
    s.record("a", t);
  }
  expect(s.allows("a", 23 * H)).toBe(false); // 4 orders inside 24 h
  expect(s.allows("b", 23 * H)).toBe(true);
  expect(s.allows("a", 24 * H)).toBe(true); // the first order left the window
  s.record("a", 24 * H);
  expect(s.allows("a", 24 * H + 1)).toBe(false); // 1 h, 2 h and 24 h are still inside
  expect(s.allows("a", 25 * H)).toBe(true);
});

test("pick redraws past a customer at the ceiling and falls back to the ranked pool, counting only true overruns", () => {
  const s = new OrderSpacing(1, 10);
  const ranked = [{ id: "top" }, { id: "second" }, { id: "third" }];
  const always = () => ranked[0]!;
  expect(s.pick(always, (c) => c.id, ranked, 0).id).toBe("top");
  expect(s.pick(always, (c) => c.id, ranked, 1).id).toBe("second"); // "top" drawn 32 times, refused
  expect(s.pick(always, (c) => c.id, ranked, 2).id).toBe("third");
  expect(s.overruns).toBe(0);
  expect(s.pick(always, (c) => c.id, ranked, 3).id).toBe("top"); // nobody free: placed anyway, counted
  expect(s.overruns).toBe(1);
});

test("under a ceiling, a skewed draw spreads over more customers and nobody exceeds it", () => {
  const rng = new Rng("spacing");
  const ranked = Array.from({ length: 50 }, (_, i) => ({ id: `u${i}` }));
  // 60 % of draws want the same customer
  const draw = () => (rng.next() < 0.6 ? ranked[0]! : ranked[1 + Math.floor(rng.next() * 49)]!);
  const s = new OrderSpacing(3, 1000);
  const times = new Map<string, number[]>();
  for (let t = 0; t < 10_000; t += 10) {
    const c = s.pick(draw, (x) => x.id, ranked, t);
    times.set(c.id, [...(times.get(c.id) ?? []), t]);
  }
  for (const ts of times.values()) for (let i = 3; i < ts.length; i++) expect(ts[i]! - ts[i - 3]!).toBeGreaterThanOrEqual(1000);
  expect(s.overruns).toBe(0);
  expect(times.size).toBe(50);
});

test("bad settings fail fast", () => {
  expect(() => new OrderSpacing(0, 10)).toThrow("whole number >= 1");
  expect(() => new OrderSpacing(2, 0)).toThrow("window must be > 0");
});

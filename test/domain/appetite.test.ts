import { expect, test } from "bun:test";
import { APPETITE, appetiteOf, drawFactor, dueMs } from "../../src/domain/appetite.ts";
import { DueQueue } from "../../src/domain/due-queue.ts";
import { newId } from "../../src/domain/ids.ts";
import { Rng } from "../../src/domain/random.ts";

// Appetite: a customer's own pace, heavy-tailed and fixed by the id; the due queue the split reads it through.

test("appetite is a softly capped Pareto(α): its median where the formula puts it, a thin tail that bends below the cap", () => {
  const rng = new Rng("appetite");
  const ids = Array.from({ length: 50_000 }, () => newId("U_", rng, Date.parse("2025-01-01T00:00:00Z")));
  const a = ids.map(appetiteOf).sort((x, y) => x - y);
  const { alpha, cap } = APPETITE;
  const soft = (x: number) => (cap * x) / (cap + x);
  const quantile = (q: number) => a[Math.floor(q * (a.length - 1))]!;
  expect(quantile(0)).toBeGreaterThan(soft(1) - 1e-6);
  expect(quantile(0.5)).toBeCloseTo(soft(2 ** (1 / alpha)), 1);
  // P(appetite > y) = P(x > cap·y / (cap − y)) = (cap·y / (cap − y))^-α
  for (const y of [5, 20]) {
    const share = a.filter((x) => x > y).length / a.length;
    const expected = ((cap * y) / (cap - y)) ** -alpha;
    expect([y, share]).toEqual([y, expect.closeTo(expected, 2)]);
    expect(share / expected).toBeGreaterThan(0.85);
    expect(share / expected).toBeLessThan(1.15);
  }
  expect(quantile(1)).toBeLessThan(cap);
  // the draw favours the hungry less than their appetite: the rest are not crowded out
  expect(drawFactor(16)).toBeLessThan(16);
  expect(drawFactor(16)).toBeGreaterThan(4);
});

test("a hungrier customer is due sooner after the same last order", () => {
  expect(dueMs(1000, 4, 400)).toBe(1100);
  expect(dueMs(1000, 1, 400)).toBe(1400);
});

test("the due queue's k earliest equal a full sort, through moves, growth and ties", () => {
  const rng = new Rng("due-queue");
  const q = new DueQueue();
  const due = new Map<number, number>();
  for (let step = 0; step < 20_000; step++) {
    const idx = rng.int(0, 2999);
    const at = rng.int(0, 500); // many ties: the smaller index goes first
    q.set(idx, at);
    due.set(idx, at);
    if (step % 997 === 0) {
      const k = rng.int(1, 700);
      const sorted = [...due].sort((a, b) => a[1] - b[1] || a[0] - b[0]).map(([i]) => i);
      expect(q.earliest(k)).toEqual(sorted.slice(0, k));
    }
  }
  expect(q.length).toBe(due.size);
  expect(q.has(2999) === due.has(2999)).toBe(true);
  expect(q.earliest(0)).toEqual([]);
});

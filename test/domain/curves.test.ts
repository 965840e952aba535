import { describe, expect, test } from "bun:test";
import { loadConfig } from "../../src/config.ts";
import { HOURLY_VOLUME, newUserStep, orderIntervalS, productIntervalS } from "../../src/domain/curves.ts";
import { Rng } from "../../src/domain/random.ts";

// the documented defaults, as config.ts holds them
const { userCurve: CURVE, orderIntervalS: ORDER_RANGE, productIntervalS: PRODUCT_RANGE } = loadConfig({});

/** The instant of Seoul hour h on 2025-03-10. */
const seoulAt = (h: number) => new Date(Date.UTC(2025, 2, 10, h - 9, 15));

describe("new-user curve (exponential decay)", () => {
  test("defaults are 10 users, 10 s → 120 s, k = 0.6", () => {
    expect(CURVE).toEqual({ startBatch: 10, startIntervalS: 10, endIntervalS: 120, decayPerHour: 0.6 });
    expect([ORDER_RANGE, PRODUCT_RANGE]).toEqual([
      [3, 5],
      [6, 8],
    ]);
  });

  test("opens at 10 users every 10 s", () => {
    expect(newUserStep(0, CURVE)).toEqual({ batch: 10, intervalS: 10 });
  });

  test("follows decay = exp(-0.6 t)", () => {
    const d = Math.exp(-0.6);
    const step = newUserStep(1, CURVE);
    expect(step.batch).toBe(Math.floor(10 * d));
    expect(step.intervalS).toBeCloseTo(10 + 110 * (1 - d), 9);
  });

  test("batch never grows and interval never shrinks", () => {
    let prev = newUserStep(0, CURVE);
    for (let t = 0.05; t <= 24; t += 0.05) {
      const s = newUserStep(t, CURVE);
      expect(s.batch).toBeLessThanOrEqual(prev.batch);
      expect(s.intervalS).toBeGreaterThan(prev.intervalS);
      prev = s;
    }
  });

  test("settles to 1 user every ~120 s", () => {
    const late = newUserStep(48, CURVE);
    expect(late.batch).toBe(1);
    expect(late.intervalS).toBeGreaterThan(119.99);
    expect(late.intervalS).toBeLessThanOrEqual(120);
  });

  test("parameters are configurable", () => {
    const p = { startBatch: 20, startIntervalS: 5, endIntervalS: 60, decayPerHour: 1 };
    expect(newUserStep(0, p)).toEqual({ batch: 20, intervalS: 5 });
    expect(newUserStep(100, p).intervalS).toBeCloseTo(60, 6);
  });
});

describe("order and product cadence", () => {
  test("hourly volume table is the documented one", () => {
    expect(HOURLY_VOLUME).toEqual([
      0.15, 0.05, 0.02, 0.01, 0.01, 0.03, 0.08, 0.2, 0.5, 0.8, 1.3, 1.6, 1.4, 1.1, 1.0, 1.1, 1.2, 1.4, 1.8, 2.2, 3.0, 2.5, 1.5, 0.5,
    ]);
  });

  test("uniform(3,5) / hourly volume, clamped to 1–30 s", () => {
    const rng = new Rng("cadence");
    for (let h = 0; h < 24; h++) {
      const v = HOURLY_VOLUME[h]!;
      for (let i = 0; i < 500; i++) {
        const s = orderIntervalS(rng, seoulAt(h), 1, ORDER_RANGE);
        expect(s).toBeGreaterThanOrEqual(Math.max(1, Math.min(30, 3 / v)) - 1e-9);
        expect(s).toBeLessThanOrEqual(Math.min(30, Math.max(1, 5 / v)) + 1e-9);
      }
    }
  });

  test("night is clamped at 30 s, the 20h peak at 1 s", () => {
    const rng = new Rng(1);
    expect(orderIntervalS(rng, seoulAt(3), 1, ORDER_RANGE)).toBe(30); // 3..5 / 0.01 = 300..500
    expect(orderIntervalS(rng, seoulAt(20), 1, ORDER_RANGE)).toBeGreaterThanOrEqual(1); // 3..5 / 3.0 = 1..1.67
    expect(orderIntervalS(rng, seoulAt(20), 1, ORDER_RANGE)).toBeLessThan(1.67);
    expect(orderIntervalS(rng, seoulAt(20), 1, [1, 2])).toBe(1); // 0.33..0.67 → clamped up
  });

  test("speed divides after clamping", () => {
    const a = orderIntervalS(new Rng(9), seoulAt(3), 1, ORDER_RANGE);
    expect(orderIntervalS(new Rng(9), seoulAt(3), 10, ORDER_RANGE)).toBeCloseTo(a / 10, 12);
    expect(orderIntervalS(new Rng(9), seoulAt(3), 100, ORDER_RANGE)).toBeCloseTo(0.3, 12);
    const b = orderIntervalS(new Rng(9), seoulAt(14), 1, ORDER_RANGE);
    expect(orderIntervalS(new Rng(9), seoulAt(14), 4, ORDER_RANGE)).toBeCloseTo(b / 4, 12);
  });

  test("scenario volume multiplies the hourly volume", () => {
    const base = orderIntervalS(new Rng(5), seoulAt(14), 1, ORDER_RANGE); // 3..5 / 1.0
    expect(orderIntervalS(new Rng(5), seoulAt(14), 1, [3, 5], 2)).toBeCloseTo(base / 2, 12);
  });

  test("products every uniform(6, 8) s divided by speed", () => {
    const rng = new Rng("p");
    for (let i = 0; i < 1_000; i++) {
      const s = productIntervalS(rng, 1, PRODUCT_RANGE);
      expect(s).toBeGreaterThanOrEqual(6);
      expect(s).toBeLessThan(8);
    }
    expect(productIntervalS(new Rng(3), 2, PRODUCT_RANGE)).toBeCloseTo(productIntervalS(new Rng(3), 1, PRODUCT_RANGE) / 2, 12);
  });

  test("rejects a non-positive speed", () => {
    expect(() => orderIntervalS(new Rng(1), seoulAt(1), 0, ORDER_RANGE)).toThrow(/speed/);
    expect(() => productIntervalS(new Rng(1), -1, PRODUCT_RANGE)).toThrow(/speed/);
  });
});

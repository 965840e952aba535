import { describe, expect, test } from "bun:test";
import {
  baseScore,
  expectedScore,
  HOURLY_FACTORS,
  lifeEventFactor,
  marketingBoost,
  propensityScore,
  seoulHour,
  timeOfDayFactor,
  topBuyers,
  type ScoreInput,
} from "../../src/domain/propensity.ts";
import { Rng } from "../../src/domain/random.ts";
import { AGE_BANDS } from "../../src/domain/types.ts";

const gold30F: ScoreInput = { age: 34, gender: "F", status: "ACTIVE", marketing_opt_in: true, grade: "GOLD" };
const utc = (iso: string) => new Date(iso);

describe("base score", () => {
  test("30대 F ACTIVE opted-in GOLD = 95", () => {
    expect(baseScore(gold30F)).toBe(95);
  });

  test("components add up as documented", () => {
    expect(baseScore({ age: 15, gender: "M", status: "DORMANT", marketing_opt_in: false, grade: "BRONZE" })).toBe(12 + 12 + 5 + 8 + 10);
    expect(baseScore({ age: 25, gender: "F", status: "ACTIVE", marketing_opt_in: true, grade: "VIP" })).toBe(20 + 15 + 20 + 15 + 25);
    expect(baseScore({ age: 45, gender: "M", status: "ACTIVE", marketing_opt_in: false, grade: "SILVER" })).toBe(22 + 12 + 20 + 8 + 15);
    expect(baseScore({ age: 58, gender: "F", status: "ACTIVE", marketing_opt_in: true, grade: "BRONZE" })).toBe(18 + 15 + 20 + 15 + 10);
  });

  test("unknown age counts as 30대", () => {
    expect(baseScore({ ...gold30F, age: null as unknown as number })).toBe(95);
    expect(timeOfDayFactor(null, utc("2025-01-01T11:00:00Z"))).toBe(HOURLY_FACTORS["30s"][20]!);
  });

  test("DORMANT scores lower than ACTIVE", () => {
    expect(baseScore({ ...gold30F, status: "DORMANT" })).toBeLessThan(baseScore(gold30F));
    expect(baseScore({ ...gold30F, status: "DORMANT" })).toBe(80);
  });
});

describe("Seoul time of day", () => {
  test("UTC converts to Seoul hours (UTC+9)", () => {
    expect(seoulHour(utc("2025-01-01T15:00:00Z"))).toBe(0);
    expect(seoulHour(utc("2025-01-01T14:59:59Z"))).toBe(23);
    expect(seoulHour(utc("2025-01-01T00:00:00Z"))).toBe(9);
    expect(seoulHour(utc("2025-07-01T11:30:00Z"))).toBe(20); // no DST in summer
    expect(seoulHour(utc("1969-12-31T20:00:00Z"))).toBe(5); // before the epoch too
  });

  test("table has 5 bands × 24 values in 0.1–1.8", () => {
    for (const band of AGE_BANDS) {
      expect(HOURLY_FACTORS[band]).toHaveLength(24);
      for (const v of HOURLY_FACTORS[band]) {
        expect(v).toBeGreaterThanOrEqual(0.1);
        expect(v).toBeLessThanOrEqual(1.8);
      }
    }
  });

  const expected: Record<number, number[]> = {
    15: [0.8, 0.5, 0.2, 0.1, 0.1, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.9, 0.8, 0.7, 0.8, 0.9, 1.0, 1.2, 1.4, 1.6, 1.8, 1.5, 1.2],
    25: [0.7, 0.4, 0.2, 0.1, 0.1, 0.1, 0.2, 0.4, 0.6, 0.7, 0.8, 1.0, 1.3, 1.1, 0.9, 0.8, 0.9, 1.0, 1.3, 1.5, 1.7, 1.8, 1.5, 1.0],
    35: [0.3, 0.1, 0.1, 0.1, 0.1, 0.1, 0.3, 0.5, 0.7, 0.9, 1.0, 1.2, 1.4, 1.2, 1.0, 0.9, 0.8, 0.9, 1.1, 1.5, 1.8, 1.6, 1.0, 0.5],
    45: [0.2, 0.1, 0.1, 0.1, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0, 1.2, 1.3, 1.4, 1.2, 1.0, 0.9, 0.8, 0.9, 1.1, 1.4, 1.6, 1.3, 0.8, 0.4],
    55: [0.1, 0.1, 0.1, 0.1, 0.1, 0.3, 0.5, 0.8, 1.0, 1.3, 1.5, 1.6, 1.4, 1.2, 1.0, 0.9, 0.8, 0.7, 0.8, 1.0, 1.1, 0.8, 0.5, 0.2],
  };
  for (const [age, values] of Object.entries(expected)) {
    test(`age ${age}: every Seoul hour matches the documented table`, () => {
      for (let h = 0; h < 24; h++) {
        // Seoul hour h is UTC hour h-9 (the previous UTC day for h < 9).
        const at = new Date(Date.UTC(2025, 0, 1, h - 9, 30));
        expect(seoulHour(at)).toBe(h);
        expect(timeOfDayFactor(Number(age), at)).toBe(values[h]!);
      }
    });
  }
});

describe("random factors", () => {
  const N = 100_000;

  test("marketing boost ×1.3 about 20 % of the time, only for opted-in users", () => {
    const rng = new Rng("boost");
    let boosted = 0;
    for (let i = 0; i < N; i++) {
      const f = marketingBoost(true, rng);
      expect(f === 1 || f === 1.3).toBe(true);
      if (f === 1.3) boosted++;
    }
    expect(boosted / N).toBeCloseTo(0.2, 1);
    expect(Math.abs(boosted / N - 0.2)).toBeLessThan(0.01);
    for (let i = 0; i < 10_000; i++) expect(marketingBoost(false, rng)).toBe(1);
  });

  test("life events ×1.0/×1.5/×3.0 at 85/12/3 %", () => {
    const rng = new Rng("life");
    const counts = new Map<number, number>();
    for (let i = 0; i < N; i++) {
      const f = lifeEventFactor(rng);
      counts.set(f, (counts.get(f) ?? 0) + 1);
    }
    expect([...counts.keys()].sort()).toEqual([1, 1.5, 3]);
    expect(Math.abs(counts.get(1)! / N - 0.85)).toBeLessThan(0.01);
    expect(Math.abs(counts.get(1.5)! / N - 0.12)).toBeLessThan(0.01);
    expect(Math.abs(counts.get(3)! / N - 0.03)).toBeLessThan(0.005);
  });

  test("propensityScore = base × time of day × boost × life event", () => {
    const rng = new Rng("score");
    const at = utc("2025-03-03T11:00:00Z"); // Seoul 20h, 30대 factor 1.8
    const allowed = new Set<number>();
    for (const boost of [1, 1.3]) for (const life of [1, 1.5, 3]) allowed.add(Math.round(95 * 1.8 * boost * life * 1e6));
    for (let i = 0; i < 2_000; i++) {
      expect(allowed.has(Math.round(propensityScore(gold30F, at, rng) * 1e6))).toBe(true);
    }
    const optedOut = { ...gold30F, marketing_opt_in: false };
    const base = baseScore(optedOut) * 1.8;
    for (let i = 0; i < 2_000; i++) {
      const ratio = propensityScore(optedOut, at, rng) / base;
      expect([1, 1.5, 3].some((x) => Math.abs(ratio - x) < 1e-9)).toBe(true);
    }
  });
});

describe("topBuyers", () => {
  const population = (n: number, seed: string) => {
    const rng = new Rng(seed);
    return Array.from({ length: n }, (_, i) => ({
      id: `u${i}`,
      age: rng.int(15, 65),
      gender: rng.chance(0.5) ? ("F" as const) : ("M" as const),
      status: rng.chance(0.2) ? ("DORMANT" as const) : ("ACTIVE" as const),
      marketing_opt_in: rng.chance(0.5),
      grade: rng.pick(["BRONZE", "SILVER", "GOLD", "VIP"] as const),
    }));
  };
  const users = population(1_000, "pop");
  const at = utc("2025-05-05T12:00:00Z");

  test("returns n users sorted by score, highest first", () => {
    const top = topBuyers(users, at, new Rng(1));
    expect(top).toHaveLength(200);
    for (let i = 1; i < top.length; i++) expect(top[i - 1]!.score).toBeGreaterThanOrEqual(top[i]!.score);
    expect(new Set(top.map((t) => t.user.id)).size).toBe(200);
    expect(topBuyers(users, at, new Rng(1), 10)).toHaveLength(10);
    expect(topBuyers(users.slice(0, 50), at, new Rng(1))).toHaveLength(50);
    expect(topBuyers([], at, new Rng(1))).toEqual([]);
  });

  test("the top are better than the rest: their minimum beats the median of all", () => {
    const rng = new Rng(2);
    const top = topBuyers(users, at, rng);
    const all = topBuyers(users, at, new Rng(2), users.length)
      .map((t) => t.score)
      .sort((a, b) => a - b);
    expect(top[top.length - 1]!.score).toBeGreaterThan(all[all.length >> 1]!);
  });

  test("deterministic per seed, different across seeds", () => {
    const ids = (seed: number) =>
      topBuyers(users, at, new Rng(seed))
        .map((t) => t.user.id)
        .join();
    expect(ids(7)).toBe(ids(7));
    expect(ids(7)).not.toBe(ids(8));
  });
});

describe("expectedScore (the --rate draw's weight)", () => {
  test("is what a customer's whole-day score averages over many days of boosts and life events", () => {
    const rng = new Rng("expected");
    const at = utc("2025-05-05T12:00:00Z");
    for (const u of [gold30F, { ...gold30F, marketing_opt_in: false, status: "DORMANT" as const, age: 61 }]) {
      let sum = 0;
      const days = 200_000;
      for (let d = 0; d < days; d++) sum += topBuyers([u], at, rng, 1, { wholeDay: true })[0]!.score;
      expect(sum / days / expectedScore(u)).toBeCloseTo(1, 2);
    }
    // and it ranks as the base score does, within an age band
    expect(expectedScore(gold30F)).toBeGreaterThan(expectedScore({ ...gold30F, status: "DORMANT" }));
  });
});

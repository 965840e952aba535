import { expect, test } from "bun:test";
import { HOURLY_VOLUME } from "../../src/domain/curves.ts";
import { RATE_ORDERS_PER_CUSTOMER_YEAR } from "../../src/domain/order-generator.ts";
import { Rng } from "../../src/domain/random.ts";
import { seoulDate, seoulTime } from "../../src/domain/seoul-time.ts";
import {
  DAY_MS,
  drawHourCounts,
  drawTimesInHour,
  expectedOrders,
  gradeCheckpoints,
  HOUR_MS,
  MONTHLY_BASE,
  planDays,
  resolvePeriod,
  WEEKDAY_WEIGHTS,
} from "../../src/historical/plan.ts";

const TODAY = new Date("2026-11-26T15:00:00Z");
const YEAR = resolvePeriod({ year: 2025 }, TODAY);

test("periods: --year is the Seoul calendar year, --start and --days as given, --days alone ends today", () => {
  expect(YEAR.start.toISOString()).toBe("2024-12-31T15:00:00.000Z");
  expect(YEAR.days).toBe(365);
  expect(YEAR.end.toISOString()).toBe("2025-12-31T15:00:00.000Z");
  expect(resolvePeriod({ year: 2024 }, TODAY).days).toBe(366);
  expect(resolvePeriod({ year: 2025, days: 30 }, TODAY).end).toEqual(seoulTime(2025, 1, 31));
  const fromStart = resolvePeriod({ start: "2025-03-15", days: 10 }, TODAY);
  expect([fromStart.start, fromStart.end]).toEqual([seoulTime(2025, 3, 15), seoulTime(2025, 3, 25)]);
  const recent = resolvePeriod({ days: 7 }, TODAY); // 2026-11-27 00:00 in Seoul
  expect(recent.end).toEqual(seoulTime(2026, 11, 27));
  expect(resolvePeriod({}, TODAY).start).toEqual(seoulTime(2025, 1, 1));
  expect(() => resolvePeriod({ start: "2025-02-30" }, TODAY)).toThrow("--start");
  expect(() => resolvePeriod({ year: 2025, days: 0 }, TODAY)).toThrow("--days");
  expect(() => resolvePeriod({ year: 25.5 }, TODAY)).toThrow("--year");
});

test("a year at scale 1 is 51,500 orders, each month exactly its base, December twice January", () => {
  const plan = planDays(YEAR, 1, 0);
  expect(plan.length).toBe(365);
  expect(plan.reduce((s, d) => s + d.orders, 0)).toBe(51_500);
  const byMonth = new Array<number>(12).fill(0);
  for (const d of plan) byMonth[seoulDate(d.start).month - 1]! += d.orders;
  expect(byMonth).toEqual([...MONTHLY_BASE]);
  expect(byMonth[11]! / byMonth[0]!).toBe(2);
  expect(planDays(YEAR, 20, 0).reduce((s, d) => s + d.orders, 0)).toBe(1_030_000);
});

test("the --rate clock's pace is the year's second half: its last 183 days over the customers it ends with", () => {
  // the six months the year's final grades read; a grade window on the shop's clock holds as much
  const plan = planDays(YEAR, 1, 10);
  const customers = 10_000 + plan.reduce((s, d) => s + d.newUsers, 0);
  const lastHalf = plan.slice(-183).reduce((s, d) => s + d.orders, 0);
  expect(Math.abs((lastHalf / customers) * (365 / 183) - RATE_ORDERS_PER_CUSTOMER_YEAR)).toBeLessThan(0.05);
});

test("days follow the weekday weights, and scenario volume moves orders within the month (Black Friday)", () => {
  // one week of April inside one season: Saturday / Monday is the weight ratio 1.3 / 0.95
  const sat = expectedOrders(seoulTime(2025, 4, 5), 1);
  const mon = expectedOrders(seoulTime(2025, 4, 7), 1);
  const fri = expectedOrders(seoulTime(2025, 4, 11), 1);
  expect(sat / mon).toBeCloseTo(WEEKDAY_WEIGHTS[6]! / WEEKDAY_WEIGHTS[1]!, 9);
  expect(fri / mon).toBeCloseTo(1.15 / 0.95, 9);
  // Black Friday 2025 is 28 November (a Friday); 7 November is an ordinary Friday of the same month
  const ratio = expectedOrders(seoulTime(2025, 11, 28), 1) / expectedOrders(seoulTime(2025, 11, 7), 1);
  expect(ratio).toBeCloseTo(2.5 / 1.2, 9);
});

test("sign-ups per day carry their fractions, grades every 7 days plus the end", () => {
  const plan = planDays(resolvePeriod({ year: 2025, days: 10 }, TODAY), 1, 2.5);
  expect(plan.map((d) => d.newUsers).reduce((a, b) => a + b)).toBe(25);
  const cps = gradeCheckpoints(resolvePeriod({ year: 2025, days: 30 }, TODAY));
  expect(cps.map((d) => (d.getTime() - YEAR.start.getTime()) / DAY_MS)).toEqual([7, 14, 21, 28, 30]);
  expect(gradeCheckpoints(resolvePeriod({ year: 2025, days: 14 }, TODAY)).length).toBe(2);
});

test("hours follow the volume curve; times are sorted inside their hour and never on it", () => {
  const rng = new Rng("plan");
  const counts = drawHourCounts(200_000, rng);
  expect(counts.reduce((a, b) => a + b)).toBe(200_000);
  const total = HOURLY_VOLUME.reduce((a, b) => a + b);
  for (let h = 0; h < 24; h++) expect(Math.abs(counts[h]! / 200_000 - HOURLY_VOLUME[h]! / total)).toBeLessThan(0.003);
  const start = seoulTime(2025, 1, 1, 20);
  const times = drawTimesInHour(start.getTime(), 1000, rng);
  for (let i = 0; i < times.length; i++) {
    expect(times[i]!).toBeGreaterThan(start.getTime());
    expect(times[i]!).toBeLessThan(start.getTime() + HOUR_MS);
    if (i > 0) expect(times[i]!).toBeGreaterThanOrEqual(times[i - 1]!);
  }
});

import { loadConfig } from "../../src/config.ts";
import { afterAll, beforeAll, expect, test } from "bun:test";
import { pearson } from "../../src/analytics/realism.ts";
import { CATEGORIES } from "../../src/domain/categories.ts";
import { HOURLY_VOLUME } from "../../src/domain/curves.ts";
import { categoryWeight, scenarioAt } from "../../src/domain/scenarios.ts";
import { seedCatalogue } from "../../src/db/seed.ts";
import { resolvePeriod } from "../../src/historical/plan.ts";
import { runHistorical } from "../../src/historical/run.ts";
import { createTestDatabase, type TestDatabase } from "../../support/db.ts";

// The realism of a whole simulated year at scale 1 (51,500 orders), read back from
// the orders table: hours, weekdays, months and categories against what the volume curve, the calendar and the order
// weights predict.

const PERIOD = resolvePeriod({ year: 2025 }, new Date("2026-06-01T00:00:00Z"));
let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase("historical_dist");
  await seedCatalogue(db.sql, { seed: "dist", users: 3_000, products: 2_000, now: PERIOD.end });
  const r = await runHistorical(db.sql, { seed: "dist", period: PERIOD, scale: 1, newUsersPerDay: 5, topN: loadConfig({}).producerTopN });
  if (r.status !== "done") throw new Error(`historical run ended ${r.status}`);
  expect(r.orders).toBe(51_500);
  expect(r.unplaced).toBe(0);
}, 180_000); // a budget for a loaded CI machine (a year at scale 1 takes 6–9 s alone), not a speed check

afterAll(async () => {
  await db.drop();
}, 30_000);

test("orders by Seoul hour of day follow the hourly volume curve (Pearson r >= 0.9)", async () => {
  const rows = await db.sql`
    select extract(hour from created_at at time zone 'Asia/Seoul')::int as h, count(*)::int as n from orders group by 1`;
  const byHour = new Array<number>(24).fill(0);
  for (const r of rows) byHour[r.h] = r.n;
  expect(pearson(byHour, HOURLY_VOLUME)).toBeGreaterThanOrEqual(0.9);
});

test("weekend days carry about 1.3/0.95 of a Monday–Thursday, Fridays about 1.15/0.95", async () => {
  const rows = await db.sql`
    select extract(dow from created_at at time zone 'Asia/Seoul')::int as dow,
           count(*)::float / count(distinct (created_at at time zone 'Asia/Seoul')::date) as per_day
    from orders group by 1`;
  const per = Object.fromEntries(rows.map((r) => [r.dow, r.per_day as number]));
  const weekday = (per[1] + per[2] + per[3] + per[4]) / 4;
  const weekend = (per[0] + per[6]) / 2;
  expect(weekend / weekday).toBeGreaterThan(1.3 / 0.95 - 0.1);
  expect(weekend / weekday).toBeLessThan(1.3 / 0.95 + 0.1);
  expect(per[5] / weekday).toBeGreaterThan(1.15 / 0.95 - 0.1);
  expect(per[5] / weekday).toBeLessThan(1.15 / 0.95 + 0.1);
});

test("December's volume is twice January's; Black Friday week stands out in November", async () => {
  const rows = await db.sql`
    select extract(month from created_at at time zone 'Asia/Seoul')::int as m, count(*)::int as n from orders group by 1 order by 1`;
  const byMonth = Object.fromEntries(rows.map((r) => [r.m, r.n]));
  expect(byMonth[12] / byMonth[1]).toBeCloseTo(2, 2);
  const [bf] = await db.sql`
    select count(*) filter (where (created_at at time zone 'Asia/Seoul')::date = '2025-11-28')::int as black_friday,
           count(*) filter (where (created_at at time zone 'Asia/Seoul')::date = '2025-11-07')::int as ordinary_friday
    from orders`;
  expect(bf!.black_friday / bf!.ordinary_friday).toBeGreaterThan(1.6);
});

test("each category's share is within 2 pp of its order weight × the hour's scenario weight", async () => {
  // expected shares: every simulated hour's orders split by that hour's scenario
  const hours = await db.sql`select date_trunc('hour', created_at) as h, count(*)::int as n from orders group by 1`;
  const expected = new Map<string, number>(CATEGORIES.map((c) => [c.code, 0]));
  let total = 0;
  for (const { h, n } of hours) {
    const scenario = scenarioAt(h as Date);
    const weights = CATEGORIES.map((c) => c.orderWeight * categoryWeight(scenario, c.code));
    const sum = weights.reduce((a, b) => a + b);
    for (const [i, c] of CATEGORIES.entries()) expected.set(c.code, expected.get(c.code)! + (n * weights[i]!) / sum);
    total += n;
  }
  const actual = new Map(
    (await db.sql`select category, count(*)::int as n from orders group by 1`).map((r) => [r.category as string, r.n as number]),
  );
  for (const c of CATEGORIES) {
    const gap = Math.abs((actual.get(c.code) ?? 0) / total - expected.get(c.code)! / total);
    expect([c.code, gap < 0.02]).toEqual([c.code, true]);
  }
});

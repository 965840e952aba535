import { loadConfig } from "../../src/config.ts";
import { afterAll, beforeAll, expect, test } from "bun:test";
import { judgeRealism, measureRealism, type RealismFigures } from "../../src/analytics/realism.ts";
import { seedCatalogue } from "../../src/db/seed.ts";
import { shopSize } from "../../src/domain/shop-size.ts";
import { resolvePeriod } from "../../src/historical/plan.ts";
import { clearHistorical } from "../../src/db/historical.ts";
import { runHistorical } from "../../src/historical/run.ts";
import type { RunFigures } from "../../src/historical/year.ts";
import { createTestDatabase, type TestDatabase } from "../../support/db.ts";

// A year at scale 1 and at scale 20, each on the default catalogue (10,000 customers, 20,000
// products), read back from PostgreSQL: the shop grows with the volume, so each customer's habits
// and the grade mix stay in the same band, and customers' appetites give the grades a thin top.

const PERIOD = resolvePeriod({ year: 2025 }, new Date("2026-06-01T00:00:00Z"));
/** A figure within [lo, hi], the figure named in the failure. */
function inside(what: string, x: number, lo: number, hi: number): void {
  expect(`${what} = ${x.toFixed(4)} in [${lo}, ${hi}]: ${x >= lo && x <= hi}`).toEndWith(": true");
}

const runs: Record<number, { db: TestDatabase; run: RunFigures; figures: RealismFigures }> = {};

async function year(scale: number) {
  const db = await createTestDatabase(`realism_${scale}`);
  await seedCatalogue(db.sql, { seed: "realism", users: 10_000, products: 20_000, now: PERIOD.end });
  const shop = shopSize(scale);
  const run = await runHistorical(db.sql, {
    seed: "realism",
    period: PERIOD,
    scale,
    newUsersPerDay: shop.signUpsPerDay,
    shop,
    topN: loadConfig({}).producerTopN,
  });
  if (run.status !== "done") throw new Error(`historical run at scale ${scale} ended ${run.status}`);
  runs[scale] = { db, run, figures: await measureRealism(db.sql, { from: PERIOD.start, to: PERIOD.end }) };
}

beforeAll(async () => {
  await year(1);
  await year(20);
}, 900_000); // a budget for a loaded CI machine (about 2 min alone), not a speed check

afterAll(async () => {
  await Promise.all(Object.values(runs).map((r) => r.db.drop()));
}, 60_000);

test("scale 20 grows the shop: 20× the customers and sign-ups, √20× the catalogue", async () => {
  const { db, run } = runs[20]!;
  expect(run.orders).toBe(1_030_000);
  expect(run.grown).toEqual({ users: 190_000, products: 69_443 });
  const [counts] = await db.sql`select (select count(*) from users)::int as users, (select count(*) from products)::int as products`;
  expect(counts).toEqual({ users: 200_000 + 365 * 200, products: 89_443 });
  expect(runs[1]!.run.grown).toEqual({ users: 0, products: 0 });
});

test("at both scales the grades have a thin top: BRONZE the majority, SILVER 15–30 %, GOLD 3–10 %, VIP 0.5–3 %", () => {
  for (const scale of [1, 20]) {
    const { grades, users } = runs[scale]!.figures;
    inside(`scale ${scale} BRONZE share`, grades.BRONZE / users, 0.5, 1);
    inside(`scale ${scale} SILVER share`, grades.SILVER / users, 0.15, 0.3);
    inside(`scale ${scale} GOLD share`, grades.GOLD / users, 0.03, 0.1);
    inside(`scale ${scale} VIP share`, grades.VIP / users, 0.005, 0.03);
  }
});

test("orders per customer a year stay within ±30 % between scale 1 and scale 20; the hungriest customers order far more than the median", () => {
  const one = runs[1]!.figures;
  const twenty = runs[20]!.figures;
  expect(one.ordersPerCustomerPerYear).toBeGreaterThan(2);
  expect(Math.abs(twenty.ordersPerCustomerPerYear / one.ordersPerCustomerPerYear - 1)).toBeLessThanOrEqual(0.3);
  for (const f of [one, twenty]) expect(f.ordersPerCustomer.p99).toBeGreaterThan(5 * f.ordersPerCustomer.p50);
});

test("hour of day follows the curve (r >= 0.9), categories within 2 pp, nobody above 3 orders in 24 h", async () => {
  for (const scale of [1, 20]) {
    const { db, figures, run } = runs[scale]!;
    expect(figures.hourCorrelation).toBeGreaterThanOrEqual(0.9);
    for (const c of figures.categories) expect([scale, c.code, Math.abs(c.share - c.target) <= 0.02]).toEqual([scale, c.code, true]);
    expect(run.spacingOverruns).toBe(0);
    // the sliding 24 h ceiling, exactly: a customer's 4th order after any order is at least 24 h later
    const [tight] = await db.sql`
      select count(*)::int as n from (
        select created_at, lead(created_at, 3) over (partition by user_id order by created_at) as fourth from orders) o
      where fourth < created_at + interval '24 hours'`;
    expect([scale, tight!.n]).toEqual([scale, 0]);
  }
});

test("revenue is Pareto-like (top 20 % of customers hold 60–80 % of it) and every realism target is met", () => {
  for (const scale of [1, 20]) {
    inside(`scale ${scale} top-20 % revenue share`, runs[scale]!.figures.top20RevenueShare, 0.6, 0.8);
    expect(judgeRealism(runs[scale]!.figures).filter((c) => !c.ok)).toEqual([]);
  }
});

test("`bun run realism` prints every target as met for the scale-1 year, and exits 1 when one is missed", async () => {
  const cli = (url: string) =>
    Bun.spawnSync([process.execPath, "run", "src/cli/realism.ts", "--source", "historical"], {
      env: { ...process.env, DATABASE_URL: url },
    });
  const good = cli(runs[1]!.db.url);
  const out = good.stdout.toString();
  expect([good.exitCode, out]).toEqual([0, expect.stringContaining("51,500 orders (historical)")]);
  // nine targets of the orders, and one line saying the year was written without its clickstream
  expect(out.split("\n").filter((l) => l.startsWith("ok  "))).toHaveLength(10);
  expect(out).toMatch(/ok\s+clickstream\s+no sessions in scope/);
  // one customer with 4 orders on one day breaks the ceiling
  const { db } = runs[1]!;
  await db.sql`
    insert into orders (id, user_id, product_id, quantity, unit_price, shipping_cost, discount_amount, total_amount, payment_method, status, created_at, category, user_region, user_gender, user_age_band, source)
    select 'O_realism_extra_' || g, user_id, product_id, quantity, unit_price, shipping_cost, discount_amount, total_amount, payment_method, status, created_at + g * interval '1 minute', category, user_region, user_gender, user_age_band, source
    from (select * from orders order by created_at limit 1) o, generate_series(1, 3) g`;
  const bad = cli(db.url);
  expect(bad.exitCode).toBe(1);
  expect(bad.stdout.toString()).toMatch(/MISS\s+busiest customer-day\s+[4-9] orders/);
}, 60_000);

test("a reset takes the grown customers and products away again", async () => {
  const { db } = runs[20]!;
  const cleared = await clearHistorical(db.sql);
  expect(cleared.products).toBe(69_443);
  const [counts] = await db.sql`select (select count(*) from users)::int as users, (select count(*) from products)::int as products`;
  expect(counts).toEqual({ users: 10_000, products: 20_000 });
}, 600_000); // about 9 s alone, over 2 min in a loaded CI; a budget, not a speed check

/// <reference lib="dom" />
import { afterAll, beforeAll, expect, test } from "bun:test";
import { readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { dashboardFiles, DATASOURCES, PIPELINE_PANELS } from "../../src/analytics/dashboards.ts";
import { runQuery, SHOP_QUERIES } from "../../src/db/shop-queries.ts";
import { loadConfig } from "../../src/config.ts";
import { seedCatalogue } from "../../src/db/seed.ts";
import { resolvePeriod } from "../../src/historical/plan.ts";
import { runHistorical } from "../../src/historical/run.ts";
import { createTestDatabase, type TestDatabase, uniqueSuffix } from "../../support/db.ts";
import { launchBrowser, openPage } from "../support/browser.ts";

// The Shop analytics dashboard and `bun run report` over a generated historical month: every SQL
// panel returns rows from PostgreSQL, the committed dashboards are what the code generates and name
// the provisioned data sources, and the report opens in a real browser with every chart drawn.

const ROOT = join(import.meta.dir, "../..");
const PERIOD = resolvePeriod({ start: "2025-11-01", days: 30 }, new Date("2026-06-01T00:00:00Z"));
let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase("analytics");
  await seedCatalogue(db.sql, { seed: "analytics", users: 3000, products: 3000, now: PERIOD.start });
  // with its clickstream: the funnel panels read the sessions
  await runHistorical(db.sql, {
    seed: "analytics",
    period: PERIOD,
    scale: 1,
    newUsersPerDay: 10,
    topN: loadConfig({}).producerTopN,
    clicks: true,
  });
}, 180_000);

afterAll(async () => {
  await db.drop();
});

test("every SQL panel of the Shop analytics dashboard returns rows for the historical month", async () => {
  for (const query of SHOP_QUERIES) {
    const rows = await runQuery(db.sql, query, PERIOD.start, PERIOD.end);
    expect([query.id, rows.length > 0]).toEqual([query.id, true]);
  }
  // the scenario weeks of the year are there to see: Black Friday week in November
  const scenarios = await runQuery(db.sql, SHOP_QUERIES.find((q) => q.id === "scenario_days")!, PERIOD.start, PERIOD.end);
  expect(new Set(scenarios.map((r) => r.metric))).toContain("black_friday");
  // and the hour of day follows the volume curve the query draws beside it
  const hours = await runQuery(db.sql, SHOP_QUERIES.find((q) => q.id === "hours")!, PERIOD.start, PERIOD.end);
  const peak = hours.reduce((best, r) => (Number(r.orders) > Number(best.orders) ? r : best));
  expect(Number(peak.hour)).toBe(Number(hours.reduce((best, r) => (Number(r.curve) > Number(best.curve) ? r : best)).hour));
});

test("the committed dashboards are the generated ones and use the provisioned data sources", () => {
  for (const [file, json] of Object.entries(dashboardFiles())) {
    expect([file, readFileSync(join(ROOT, "deploy/grafana/dashboards", file), "utf8") === json]).toEqual([file, true]); // bun run dashboards
  }
  const provisioned = readFileSync(join(ROOT, "deploy/grafana/provisioning/datasources/shopstream.yml"), "utf8");
  const uids = [...provisioned.matchAll(/^\s+uid: (\S+)$/gm)].map((m) => m[1]);
  expect(uids.sort()).toEqual([DATASOURCES.postgres.uid, DATASOURCES.prometheus.uid].sort());
  for (const file of ["pipeline.json", "shop-analytics.json"]) {
    const dashboard = JSON.parse(readFileSync(join(ROOT, "deploy/grafana/dashboards", file), "utf8")) as {
      panels: { datasource: { uid: string }; targets: { datasource: { uid: string } }[] }[];
    };
    for (const panel of dashboard.panels) {
      expect(uids).toContain(panel.datasource.uid);
      for (const target of panel.targets) expect(uids).toContain(target.datasource.uid);
    }
  }
  expect(PIPELINE_PANELS.length).toBeGreaterThanOrEqual(10);
  // compose runs Grafana with them, on loopback only
  const compose = readFileSync(join(ROOT, "deploy/docker-compose.yml"), "utf8");
  expect(compose).toContain('"127.0.0.1:3000:3000"');
  expect(compose).toContain("./grafana/provisioning:/etc/grafana/provisioning:ro");
  expect(compose).toContain("./grafana/dashboards:/var/lib/grafana/dashboards:ro");
});

// a name any producer could have published: markup and a script end tag, shown as text
const HOSTILE = `<img src=x onerror="window.__xss=1"></script><b>굵게</b>`;

test("bun run report writes one self-contained HTML file whose every chart renders in a real browser", async () => {
  // the best-selling product of the month gets the hostile name and brand
  await db.sql`update products set name = ${HOSTILE}, brand = ${HOSTILE}
               where id = (select product_id from orders group by 1 order by count(*) desc, 1 limit 1)`;
  const out = join(tmpdir(), `shopstream-report-${uniqueSuffix()}.html`);
  const run = Bun.spawn([process.execPath, "run", join(ROOT, "src/cli/report.ts"), "--out", out], {
    env: { ...process.env, DATABASE_URL: db.url },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [code, stdout] = await Promise.all([run.exited, new Response(run.stdout).text()]);
  expect(code).toBe(0);
  expect(stdout).toContain(`${SHOP_QUERIES.length} charts`);
  const html = readFileSync(out, "utf8");
  expect(html).not.toMatch(/<script src=|<link [^>]*href="http/); // nothing fetched: it opens offline
  const browser = await launchBrowser();
  try {
    const { page, errors } = await openPage(browser, `file://${out}`);
    const charts = await page.$$eval("[data-chart]", (els) =>
      els.map((e) => ({
        id: (e as HTMLElement).dataset.chart,
        rows: Number((e as HTMLElement).dataset.rendered ?? 0),
        canvases: e.querySelectorAll("canvas").length,
      })),
    );
    expect(charts.map((c) => c.id)).toEqual(SHOP_QUERIES.map((q) => q.id));
    for (const c of charts) expect([c.id, c.rows > 0]).toEqual([c.id, true]);
    // time series and the hour chart are drawn on canvases; bars and tables are HTML
    const drawn = SHOP_QUERIES.filter((q) => q.kind === "timeseries" || q.id === "hours").map((q) => q.id);
    for (const c of charts.filter((x) => drawn.includes(x.id!))) expect([c.id, c.canvases]).toEqual([c.id, 1]);
    const shot = process.env.REPORT_SCREENSHOT ?? join(tmpdir(), "shopstream-report.png");
    await page.screenshot({ path: shot, fullPage: true });
    console.log(`[report] screenshot: ${shot}`);
    expect(errors).toEqual([]);
    // the hostile name is on the page as text: no element made of it, no script run
    expect(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss)).toBeUndefined();
    expect(await page.$$eval("main img, main b", (els) => els.length)).toBe(0);
    expect(await page.$eval("main", (m) => (m as HTMLElement).innerText)).toContain(HOSTILE);
  } finally {
    await browser.close();
    rmSync(out, { force: true });
  }
}, 60_000);

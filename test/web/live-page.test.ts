/// <reference lib="dom" />
import { afterAll, beforeAll, expect, test } from "bun:test";
import { readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, Page } from "playwright-core";
import { PIPELINE_PANELS } from "../../src/analytics/dashboards.ts";
import { connectRedis, deleteByPrefix } from "../../src/cache/client.ts";
import { seedCatalogue } from "../../src/db/seed.ts";
import { insertClicks } from "../../src/db/writers.ts";
import { Clickstream } from "../../src/domain/clickstream.ts";
import { Rng } from "../../src/domain/random.ts";
import { BASELINE } from "../../src/domain/scenarios.ts";
import type { Order } from "../../src/domain/types.ts";
import { createTestDatabase, type TestDatabase, uniqueSuffix } from "../../support/db.ts";
import { launchBrowser, openPage } from "../support/browser.ts";
import { createTestTopics, type TestTopics, waitForZeroLag } from "../support/kafka.ts";
import { PrivatePrometheus } from "../support/prometheus.ts";
import { type RunningService, startService } from "../support/services.ts";
import { until as waitUntil } from "../support/until.ts";

// The live page and the figures behind it, on a running pipeline (cache-worker, producer,
// user-seeder, one consumer per topic and the metrics service as real processes): the page in a
// real browser, a scenario switched from the page reaching the producer's orders, /metrics against
// what Kafka and PostgreSQL hold, and the Pipeline dashboard's PromQL on a real Prometheus.

let db: TestDatabase;
let t: TestTopics;
let metricsUrl: string;
let browser: Browser;
let prometheus: PrivatePrometheus;
const cachePrefix = `test:live:${uniqueSuffix()}:`;
const services = new Map<string, RunningService>();
const redis = connectRedis(process.env.REDIS_URL ?? "redis://127.0.0.1:6379");
const pageErrors: string[] = [];

// how long the page is given to show what the pipeline did: a wait, not a speed (a loaded machine samples late)
const PAGE_WAIT_MS = 60_000;

const orders = async (where = "true") => (await db.sql.unsafe(`select count(*)::int as n from orders where ${where}`))[0]!.n as number;

const until = (what: string, check: () => Promise<boolean> | boolean, timeoutMs = 30_000) =>
  waitUntil(what, check, { timeoutMs, pollMs: 250, services: services.values() });

beforeAll(async () => {
  [db, t] = await Promise.all([createTestDatabase("live"), createTestTopics("live")]);
  await seedCatalogue(db.sql, { seed: "live", users: 2000, products: 2000, now: new Date() });
  const env = { DATABASE_URL: db.url, TOPIC_PREFIX: t.prefix, CACHE_PREFIX: cachePrefix, SEED: "live", SPEED: "10", METRICS_PORT: "0" };
  const start = (name: string, file: string, args: string[] = [], extra: Record<string, string> = {}) =>
    services.set(name, startService(name, file, args, { ...env, ...extra }));
  for (const topic of ["users", "products", "orders"]) start(`${topic}-consumer`, "consumer.ts", [topic]);
  start("cache-worker", "cache-worker.ts");
  start("metrics", "metrics.ts");
  await until("the metrics service serves", () => /serving http:\/\/[\d.]+:\d+\//.test(services.get("metrics")!.output()));
  const [, port] = /serving http:\/\/[\d.]+:(\d+)\//.exec(services.get("metrics")!.output())!;
  metricsUrl = `http://127.0.0.1:${port}`;
  start("producer", "producer.ts", ["--rate", "150"]);
  start("user-seeder", "user-seeder.ts", ["--speed", "100"]);
  await until("orders reach PostgreSQL", async () => (await orders()) > 300, 60_000);
  await writeRecentSessions();
  prometheus = new PrivatePrometheus(`127.0.0.1:${port}`);
  await prometheus.start();
  browser = await launchBrowser();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await prometheus?.stop();
  await Promise.all([...services.values()].map((s) => s.stop()));
  await deleteByPrefix(redis, cachePrefix);
  redis.disconnect();
  await t.cleanup();
  await db.drop();
}, 120_000);

/**
 * The sessions behind the first 300 stored orders, drawn as the producer's --clicks draws them and
 * written by the clicks consumers' writer, ending now: the page's funnel panel reads them (the
 * clicks topic's own path is test/pipeline/clickstream.test.ts).
 */
async function writeRecentSessions(): Promise<void> {
  const rows = await db.sql<Order[]>`select * from orders order by id limit 300`;
  const products = await db.sql<{ id: string; category: string }[]>`select id, category from products limit 2000`;
  const stream = new Clickstream();
  stream.setCatalogue([], products);
  const rng = new Rng("live-clicks");
  const now = Date.now();
  const clicks = rows.flatMap((o, i) => stream.forOrder(rng, { ...o, created_at: new Date(now - i * 1000) }, BASELINE).clicks);
  await insertClicks(db.sql, clicks);
}

const updates = (page: Page) => page.evaluate(() => (window as unknown as { __shopstream: { updates: number } }).__shopstream.updates);
const dataset = (page: Page, id: string, key: string) => page.$eval(`#${id}`, (el, k) => (el as HTMLElement).dataset[k] ?? "", key);

test("the live page loads with no console errors, and its charts move as orders flow", async () => {
  const { page, errors } = await openPage(browser, `${metricsUrl}/`);
  pageErrors.push(...errors);
  await page.waitForFunction(() => (window as unknown as { __shopstream: { updates: number } }).__shopstream.updates >= 2, null, {
    timeout: PAGE_WAIT_MS,
  });
  const before = { stored: Number(await dataset(page, "rates", "stored")), points: Number(await dataset(page, "rates", "points")) };
  const seen = await updates(page);
  await page.waitForFunction((n) => (window as unknown as { __shopstream: { updates: number } }).__shopstream.updates >= n + 3, seen, {
    timeout: PAGE_WAIT_MS,
  });
  const after = { stored: Number(await dataset(page, "rates", "stored")), points: Number(await dataset(page, "rates", "points")) };
  expect(after.stored).toBeGreaterThan(before.stored); // the orders stored tile and chart follow PostgreSQL
  expect(after.points).toBeGreaterThan(before.points);
  expect(await page.$$eval("#rates canvas, #lag canvas, #hours canvas", (c) => c.length)).toBe(3);
  // the last rate drawn is the producer's: 150 orders/s, within what two cores under test allow
  const rate = await page.evaluate(() => {
    const s = (window as unknown as { __shopstream: { last: { series: { stored: { orders: number[] } } } } }).__shopstream.last.series;
    return s.stored.orders.at(-1) ?? 0;
  });
  expect(rate).toBeGreaterThan(50);
  expect(rate).toBeLessThan(400);
  expect(Number(await dataset(page, "categories", "total"))).toBeGreaterThan(0);
  // the click funnel of the last hour: every session counted, fewer at each stage, 300 bought
  const funnel = await page.$$eval("#funnel .row em", (rows) => rows.map((r) => Number(r.textContent!.split(" ")[0]!.replaceAll(",", ""))));
  expect(funnel).toHaveLength(5);
  expect(funnel[4]).toBe(300);
  for (let i = 1; i < 5; i++) expect(funnel[i]!).toBeLessThan(funnel[i - 1]!);
  expect(await page.$$eval("#funnelCategories .row", (rows) => rows.length)).toBeGreaterThan(0);
  expect(await page.$$eval("#health span.up", (s) => s.map((x) => x.textContent))).toEqual(["postgres up", "redis up", "kafka up"]);
  expect(await page.textContent("#hitRatio")).toMatch(/%/);
  const shot = process.env.LIVE_PAGE_SCREENSHOT ?? join(tmpdir(), "shopstream-live-page.png");
  await page.screenshot({ path: shot, fullPage: true });
  console.log(`[live page] screenshot: ${shot}`);
  await page.close();
  expect(errors).toEqual([]);
}, 180_000);

test("switching the scenario on the page reaches the producer: the category mix of the next orders shifts", async () => {
  const { page, errors } = await openPage(browser, `${metricsUrl}/`);
  await page.waitForFunction(() => (window as unknown as { __shopstream: { updates: number } }).__shopstream.updates >= 1, null, {
    timeout: PAGE_WAIT_MS,
  });
  const golfShare = async (from: Date, to: Date) => {
    const [r] = await db.sql<{ golf: number; all: number }[]>`
      select count(*) filter (where category = 'GOLF')::int as golf, count(*)::int as all
      from orders where created_at >= ${from} and created_at < ${to}`;
    return { share: r!.golf / Math.max(1, r!.all), orders: r!.all };
  };
  const beforeEnd = new Date();
  const before = await golfShare(new Date(beforeEnd.getTime() - 20_000), beforeEnd);
  await page.selectOption("#scenarioPick", "golf_season"); // 골프 시즌: GOLF × 5
  await page.click("#scenarioApply");
  await page.waitForFunction(() => document.getElementById("scenarioMsg")?.textContent === "→ golf_season", null, { timeout: 5000 });
  // the producer follows the pin within a second and reports it back through /metrics
  await page.waitForFunction(() => (document.getElementById("scenarioActive") as HTMLElement).dataset.id === "golf_season", null, {
    timeout: PAGE_WAIT_MS,
  });
  const switched = new Date();
  await Bun.sleep(12_000);
  const after = await golfShare(switched, new Date());
  console.log(
    `[live page] GOLF share ${(before.share * 100).toFixed(1)} % of ${before.orders} orders before, ${(after.share * 100).toFixed(1)} % of ${after.orders} after`,
  );
  expect(after.orders).toBeGreaterThan(500);
  expect(after.share).toBeGreaterThan(0.04);
  expect(after.share).toBeGreaterThan(2.5 * before.share);
  await page.click("#scenarioAuto");
  await page.waitForFunction(() => document.getElementById("scenarioMode")?.textContent === "by the hour", null, { timeout: PAGE_WAIT_MS });
  await page.close();
  expect(errors).toEqual([]);
}, 180_000);

test("switching the order schema on the page: producers write version 2, coupons reach PostgreSQL, the page shows each topic's version", async () => {
  const { page, errors } = await openPage(browser, `${metricsUrl}/`);
  const topicsText = () => page.textContent("#schemaTopics");
  await page.waitForFunction(() => /orders json v1/.test(document.getElementById("schemaTopics")?.textContent ?? ""), null, {
    timeout: PAGE_WAIT_MS,
  });
  expect(await topicsText()).toContain("users json v1");
  await page.selectOption("#schemaPick", "2");
  await page.click("#schemaApply");
  await page.waitForFunction(() => document.getElementById("schemaMsg")?.textContent === "→ v2", null, { timeout: 5000 });
  await page.waitForFunction(() => /orders json v2/.test(document.getElementById("schemaTopics")?.textContent ?? ""), null, {
    timeout: PAGE_WAIT_MS,
  });
  await until("orders with coupons are stored", async () => (await orders("coupon_code is not null")) > 20, 30_000);
  expect(await orders("coupon_code is not null and discount_amount = 0")).toBe(0);
  await page.click("#schemaAuto");
  await page.waitForFunction(() => document.getElementById("schemaMsg")?.textContent === "→ default", null, { timeout: 5000 });
  await page.waitForFunction(() => /orders json v1/.test(document.getElementById("schemaTopics")?.textContent ?? ""), null, {
    timeout: PAGE_WAIT_MS,
  });
  await page.close();
  expect(errors).toEqual([]);
}, 180_000);

test("every PromQL query of the Pipeline dashboard parses (promtool) and returns series from a real Prometheus", async () => {
  const exprs = PIPELINE_PANELS.flatMap((p) => p.exprs.map((e) => e.expr.replaceAll("$__rate_interval", "30s")));
  const rules = join(tmpdir(), `shopstream-dashboard-rules-${uniqueSuffix()}.yml`);
  writeFileSync(
    rules,
    `groups:\n  - name: pipeline\n    rules:\n${exprs.map((e, i) => `      - record: dashboard_panel_${i}\n        expr: ${JSON.stringify(e)}`).join("\n")}\n`,
  );
  const check = Bun.spawnSync(["promtool", "check", "rules", rules], { stdout: "pipe", stderr: "pipe" });
  expect(`${check.stdout}${check.stderr}`).toContain("SUCCESS");
  expect(check.exitCode).toBe(0);
  // a rate needs two scrapes inside its range: give Prometheus a few seconds of samples
  await until("Prometheus has scraped the metrics service", async () => (await prometheus.query("shopstream_source_up")).length === 3);
  await Bun.sleep(5000);
  // every query answered in one pass; a scrape that times out on a busy machine (1 s) marks every
  // series stale until the next one succeeds, so a pass with gaps is asked again for up to 30 s
  let empty: string[] = [];
  const deadline = Date.now() + 30_000;
  do {
    empty = [];
    for (const expr of exprs) if ((await prometheus.query(expr)).length === 0) empty.push(expr);
    if (empty.length > 0) await Bun.sleep(1000);
  } while (empty.length > 0 && Date.now() < deadline);
  expect(empty).toEqual([]);
}, 180_000);

test("/metrics tells the truth: produced = what Kafka holds, stored = what PostgreSQL holds, consumed = stored + dead-lettered + parked", async () => {
  const producer = services.get("producer")!;
  const seeder = services.get("user-seeder")!;
  expect(await producer.stop()).toBe(0);
  expect(await seeder.stop()).toBe(0);
  const acked = Number(/stopped: \d+ orders generated, (\d+) acknowledged/.exec(producer.output())![1]);
  await waitForZeroLag(t.admin, t.names, 60_000);
  const inTopic = async (topic: string) => (await t.admin.offsets(topic)).reduce((s, p) => s + p.high - p.low, 0);
  const value = (text: string, series: string) =>
    Number(new RegExp(`^${series.replace(/[{}]/g, "\\$&")} (\\S+)$`, "m").exec(text)?.[1] ?? NaN);
  // consumers ship their figures every 2 s: read until they have shipped the last batch
  let text = "";
  await until("the consumers' last figures reach /metrics", async () => {
    text = await (await fetch(`${metricsUrl}/metrics`)).text();
    return value(text, 'shopstream_messages_stored_total{topic="orders"}') >= acked;
  });
  const [ordersInKafka, usersInKafka, storedOrders] = await Promise.all([
    inTopic(t.names.topic("orders")),
    inTopic(t.names.topic("users")),
    orders(),
  ]);
  expect(value(text, 'shopstream_messages_produced_total{topic="orders"}')).toBe(acked);
  expect(ordersInKafka).toBe(acked);
  expect(storedOrders).toBe(acked);
  expect(value(text, 'shopstream_messages_produced_total{topic="users"}')).toBe(usersInKafka);
  expect(usersInKafka).toBeGreaterThan(0);
  for (const topic of ["users", "products", "orders"]) {
    const consumed = value(text, `shopstream_messages_consumed_total{topic="${topic}"}`);
    const stored = value(text, `shopstream_messages_stored_total{topic="${topic}"}`);
    const dead = value(text, `shopstream_dlq_messages_total{topic="${topic}"}`);
    const parked = topic === "orders" ? value(text, `shopstream_parked_records{topic="${t.names.topic(topic)}"}`) : 0;
    expect([topic, consumed]).toEqual([topic, stored + dead + parked]);
  }
  // the hit ratio is the producer's own lookups (one a second) over its run, all of them hits
  const stats = await redis.hgetall(`${cachePrefix}cache:stats`);
  const [hits, misses] = [Number(stats.hits ?? 0), Number(stats.misses ?? 0)];
  expect(hits + misses).toBeGreaterThan(10);
  expect(value(text, "shopstream_cache_hit_ratio")).toBeCloseTo(hits / (hits + misses), 6);
  // each process's memory is its own, as the kernel counts it
  for (const name of ["orders-consumer", "cache-worker", "metrics"]) {
    const s = services.get(name)!;
    const service = name === "orders-consumer" ? "order-consumer-1" : name;
    const exported = value(text, `shopstream_process_resident_memory_bytes{service="${service}"}`);
    const kernel = Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${s.proc.pid}/status`, "utf8"))![1]) * 1024;
    expect([service, Math.abs(exported - kernel) / kernel < 0.4]).toEqual([service, true]);
    expect(value(text, `shopstream_process_cpu_seconds_total{service="${service}"}`)).toBeGreaterThan(0);
  }
  expect(pageErrors).toEqual([]);
}, 120_000);

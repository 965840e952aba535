import { afterAll, beforeAll, expect, test } from "bun:test";
import { connectRedis, deleteByPrefix } from "../../src/cache/client.ts";
import { cacheKeys } from "../../src/cache/keys.ts";
import { openDatabase } from "../../src/db/open.ts";
import { insertOrders, insertProducts, insertUsers } from "../../src/db/writers.ts";
import { readTopic } from "../../src/kafka/read-topic.ts";
import { uniqueSuffix } from "../../support/db.ts";
import { freePorts } from "../../support/ports.ts";
import { order, product, user } from "../support/fixtures.ts";
import { config, createTestTopics, type TestTopics } from "../support/kafka.ts";
import { PrivatePostgres } from "../support/postgres-server.ts";
import { type RunningService, startService } from "../support/services.ts";
import { until } from "../support/until.ts";

// The services beside the consumers against a PostgreSQL that hangs (every process of a private
// server SIGSTOPped: connections open, nothing answers). The metrics service keeps answering and
// reports postgres down; every service stopped during a freeze exits cleanly within seconds; the
// lifecycle service, the cache-worker and the metrics service, kept running through a freeze,
// carry on once the server is thawed.

const TIMEOUT_MS = 3000; // PG_QUERY_TIMEOUT_MS
/** How long a service stopped during a freeze may take to exit (the pool's end alone waits up to 5 s). */
const STOP_BOUND_MS = 10_000;

const pg = new PrivatePostgres();
let t: TestTopics;
const cachePrefix = `test:pgfreeze-services:${uniqueSuffix()}:`;
const metricsPort = freePorts();
const redis = connectRedis(config.redisUrl);
const running: RunningService[] = [];

/** An order whose next lifecycle step is due already: the lifecycle service publishes it at its next poll. */
async function dueOrder(id: string): Promise<void> {
  const sql = await openDatabase(pg.url, { max: 1 });
  try {
    await insertOrders(sql, [order(id, "U_s1", "P_s1", { created_at: new Date(Date.now() - 60_000) })], {
      schedule: () => ({ status: "SHIPPED", at: new Date(Date.now() - 1000) }),
    });
  } finally {
    await sql.end();
  }
}

/** Orders whose steps the lifecycle service has published. */
async function stepsPublished(): Promise<Set<string>> {
  const messages = await readTopic(t.client, t.admin, t.names.topic("orders"));
  return new Set(
    messages.flatMap((m) => {
      const event = JSON.parse(m.value) as { event_type: string; data: { order_id?: string } };
      return event.event_type === "order_status_changed" && event.data.order_id ? [event.data.order_id] : [];
    }),
  );
}

const reloads = async () => Number((await redis.hget(cacheKeys(cachePrefix).stats, "reloads")) ?? 0);

/** A request to the metrics service, with how long it took to answer (status 0: no answer within 10 s). */
async function ask(path: string): Promise<{ status: number; body: string; ms: number }> {
  const started = Date.now();
  try {
    const res = await fetch(`http://127.0.0.1:${metricsPort}${path}`, { signal: AbortSignal.timeout(10_000) });
    return { status: res.status, body: await res.text(), ms: Date.now() - started };
  } catch (err) {
    return { status: 0, body: `${path}: ${err}`, ms: Date.now() - started };
  }
}

/** SIGTERMs each of them at once; each one's exit code and how long it took. */
async function stopAll(services: RunningService[]): Promise<{ name: string; code: number; ms: number }[]> {
  return Promise.all(
    services.map(async (s) => {
      const started = Date.now();
      const code = await s.stop(STOP_BOUND_MS + 20_000);
      return { name: s.name, code, ms: Date.now() - started };
    }),
  );
}

beforeAll(async () => {
  [t] = await Promise.all([createTestTopics("pgfreezesvc"), pg.init()]);
  const sql = await openDatabase(pg.url);
  await insertUsers(sql, [user("U_s1"), user("U_s2")]);
  await insertProducts(sql, [product("P_s1")]);
  await sql.end();
  await dueOrder("O_s1");
});

afterAll(async () => {
  try {
    pg.thaw(); // a run that failed during a freeze: the services stop against a running server
  } catch {
    // never started
  }
  await Promise.all(running.map((s) => (s.proc.exitCode === null ? s.stop() : undefined)));
  await t.cleanup();
  pg.destroy();
  await deleteByPrefix(redis, cachePrefix);
  redis.disconnect();
});

test("the lifecycle service, cache-worker, grade-updater and metrics service ride out a frozen PostgreSQL: /metrics and /healthz answer, stops within seconds, recovery after the thaw", async () => {
  const env = {
    DATABASE_URL: pg.url,
    TOPIC_PREFIX: t.prefix,
    CACHE_PREFIX: cachePrefix,
    METRICS_PORT: String(metricsPort),
    PG_QUERY_TIMEOUT_MS: String(TIMEOUT_MS),
    CACHE_REFRESH_S: "1",
    GRADE_INTERVAL_S: "1",
  };
  const start = (name: string, file: string) => {
    const s = startService(name, file, [], env);
    running.push(s);
    return s;
  };
  const lifecycle = start("lifecycle", "lifecycle.ts");
  const cacheWorker = start("cache-worker", "cache-worker.ts");
  const grades = start("grade-updater", "grade-updater.ts");
  const metrics = start("metrics", "metrics.ts");
  const opts = { timeoutMs: 60_000, services: running };
  await until("the due step published", async () => (await stepsPublished()).has("O_s1"), opts);
  await until("the cache reloaded", () => /reload #\d+/.test(cacheWorker.output()), opts);
  await until("grades recomputed", () => /grade change\(s\)/.test(grades.output()), opts);
  await until(
    "/healthz 200",
    () =>
      ask("/healthz").then(
        (r) => r.status === 200,
        () => false,
      ),
    opts,
  );

  // 1. frozen: the metrics service answers within seconds and says postgres is down
  const frozenAt = Date.now();
  pg.freeze();
  await Bun.sleep(TIMEOUT_MS + 1500); // every service's poll is waiting on the server, or has timed out once
  const scrapes: number[] = [];
  let scrape = await ask("/metrics");
  scrapes.push(scrape.ms);
  // a read begun just before the freeze may still be what a scrape within the next second shares
  for (let i = 0; i < 5 && scrape.status === 200 && !scrape.body.includes('shopstream_source_up{source="postgres"} 0'); i++) {
    scrape = await ask("/metrics");
    scrapes.push(scrape.ms);
  }
  expect(scrape.status).toBe(200);
  expect(scrape.body).toContain('shopstream_source_up{source="postgres"} 0');
  expect(scrape.body).toContain('shopstream_source_up{source="redis"} 1');
  expect(Math.max(...scrapes)).toBeLessThan(TIMEOUT_MS + 2000);
  const health = await ask("/healthz");
  expect(health.status).toBe(503);
  const body = JSON.parse(health.body) as { ok: boolean; postgres: boolean; redis: boolean; errors: { postgres?: string } };
  expect(body).toMatchObject({ ok: false, postgres: false, redis: true });
  expect(body.errors.postgres).toMatch(/postgres did not answer within 2 s/);
  expect(health.ms).toBeLessThan(4000);

  // the grade-updater stopped in the middle of it: a clean exit within seconds
  const [gradeStop] = await stopAll([grades]);
  expect(gradeStop).toMatchObject({ code: 0 });
  expect(gradeStop!.ms).toBeLessThan(STOP_BOUND_MS);

  // the others ride it out: their polls fail at the deadline, summarised, and the loops carry on
  await Bun.sleep(Math.max(0, frozenAt + 15_000 - Date.now()));
  for (const s of [lifecycle, cacheWorker, metrics]) expect([s.name, s.proc.exitCode]).toEqual([s.name, null]);
  expect(lifecycle.output()).toContain(`PostgreSQL did not answer within ${TIMEOUT_MS} ms`);
  expect(cacheWorker.output()).toContain("reload failed, keeping the previous cache");
  // StormLog: a handful of lines for the freeze, not one per failed poll
  for (const s of [lifecycle, cacheWorker]) expect([s.name, s.output().split("\n").length < 40]).toEqual([s.name, true]);
  const reloadsFrozen = await reloads();

  // 2. thawed: the services kept running work again
  pg.thaw();
  const thawedAt = Date.now();
  await dueOrder("O_s2");
  await until("the step due after the thaw published", async () => (await stepsPublished()).has("O_s2"), opts);
  const publishedMs = Date.now() - thawedAt;
  await until("a reload after the thaw", async () => (await reloads()) > reloadsFrozen, opts);
  const reloadedMs = Date.now() - thawedAt;
  await until(
    "postgres up again in /metrics",
    async () => {
      const r = await ask("/metrics");
      return r.body.includes('shopstream_source_up{source="postgres"} 1');
    },
    opts,
  );
  expect((await ask("/healthz")).status).toBe(200);
  const healthyMs = Date.now() - thawedAt;

  // 3. frozen again: the services still running are stopped with their polls waiting on it
  pg.freeze();
  await Bun.sleep(2000);
  const stops = await stopAll([lifecycle, cacheWorker, metrics]);
  pg.thaw();
  for (const s of stops) {
    expect([s.name, s.code]).toEqual([s.name, 0]);
    expect([s.name, s.ms < STOP_BOUND_MS]).toEqual([s.name, true]);
  }
  expect(lifecycle.output()).toMatch(/stopped after \d+ lifecycle steps published/); // its own clean end, not a kill

  console.log(
    `[${config.kafkaClient}] frozen PostgreSQL: /metrics in ${Math.max(...scrapes)} ms (postgres 0), /healthz 503 in ${health.ms} ms; ` +
      `stops during a freeze: ${[gradeStop!, ...stops].map((s) => `${s.name} ${(s.ms / 1000).toFixed(1)} s`).join(", ")}; ` +
      `after the thaw: a due step published in ${(publishedMs / 1000).toFixed(1)} s, the cache reloaded in ${(reloadedMs / 1000).toFixed(1)} s, ` +
      `healthy in ${(healthyMs / 1000).toFixed(1)} s`,
  );
}, 180_000);

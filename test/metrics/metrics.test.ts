import { afterAll, beforeAll, expect, test } from "bun:test";
import { connectRedis, deleteByPrefix } from "../../src/cache/client.ts";
import { cacheKeys } from "../../src/cache/keys.ts";
import { ScenarioSwitch } from "../../src/cache/scenario-switch.ts";
import { SchemaVersionSwitch } from "../../src/schemas/version-switch.ts";
import { checkHealth, flinkJobStates } from "../../src/metrics/health.ts";
import { reloadCache } from "../../src/cache/reload.ts";
import { parkingLot } from "../../src/db/parking.ts";
import { insertProducts, insertUsers, insertOrders } from "../../src/db/writers.ts";
import { encode } from "../../src/kafka/envelope.ts";
import { BatchingProducer } from "../../src/kafka/batching-producer.ts";
import { LOOPBACK_HOSTS, metricsApp } from "../../src/metrics/app.ts";
import { buildRegistry, type Sources } from "../../src/metrics/collect.ts";
import { publishMetrics, snapshotKey } from "../../src/metrics/publish.ts";
import { consumed, flinkJob, produced } from "../../src/metrics/registry.ts";
import { createTestDatabase, uniqueSuffix, type TestDatabase } from "../../support/db.ts";
import { order, product, user } from "../support/fixtures.ts";
import { createTestTopics, type TestTopics, testLogger } from "../support/kafka.ts";

let db: TestDatabase;
let t: TestTopics;
const redis = connectRedis(process.env.REDIS_URL ?? "redis://127.0.0.1:6379");
const prefix = `test:metrics:${uniqueSuffix()}:`;
const keys = cacheKeys(prefix);
const scenarioSwitch = new ScenarioSwitch(redis, prefix);
const schemaSwitch = new SchemaVersionSwitch(redis, prefix);
const scrapeErrors: string[] = [];
/** What the metrics service reads, each failure told to `errors`. */
const sources = (errors: string[]): Sources => ({
  redis,
  db: db.sql,
  admin: t.admin,
  keys,
  names: t.names,
  prefix,
  onError: (source, e) => errors.push(`${source}: ${e}`),
});
const app = (redisForHealth = redis) =>
  metricsApp({
    registry: () => buildRegistry(sources(scrapeErrors)),
    scenario: scenarioSwitch,
    schemaVersion: schemaSwitch,
    health: () =>
      checkHealth({ db: db.sql, redis: redisForHealth, admin: t.admin, flinkStates: () => flinkJobStates(redisForHealth, prefix) }),
    live: () => null,
    hosts: [...LOOPBACK_HOSTS, "shop.internal"],
  });

beforeAll(async () => {
  [db, t] = await Promise.all([createTestDatabase("metrics"), createTestTopics("metrics")]);
  await insertUsers(db.sql, [user("U_m1", { grade: "GOLD" }), user("U_m2")]);
  await insertProducts(db.sql, [product("P_m1")]);
  await insertOrders(db.sql, [
    order("O_m1", "U_m1", "P_m1", { created_at: new Date() }),
    order("O_m2", "U_m2", "P_m1", { created_at: new Date(), status: "CANCELLED" }),
  ]);
  await reloadCache(db.sql, redis, keys);
  // an order waiting in the parking lot for a user who has not come
  const waiting = encode("orders", order("O_wait", "U_late", "P_m1"));
  await parkingLot(db.sql).park(
    [
      {
        topic: t.names.topic("orders"),
        partition: 0,
        offset: "7",
        subject: "O_wait",
        key: Buffer.from("U_late"),
        value: Buffer.from(waiting),
      },
    ].map((r) => ({ ...r, reason: "references a user or product that did not arrive", attempts: 1, expiresAt: Date.now() + 60_000 })),
  );
  // three orders in the topic that no group has consumed: lag 3
  const p = new BatchingProducer(t.client);
  await p.connect();
  await Promise.all(
    ["O_a", "O_b", "O_c"].map((id) => p.send(t.names.topic("orders"), { key: "U_m1", value: encode("orders", order(id, "U_m1", "P_m1")) })),
  );
  await p.close();
  produced.inc({ topic: "orders" }, 3);
  consumed.inc({ topic: "orders" }, 2);
  const stop = publishMetrics(redis, prefix, "test-process", 60_000);
  await stop();
});
afterAll(async () => {
  await deleteByPrefix(redis, prefix);
  redis.disconnect();
  await t.cleanup();
  await db.drop();
});

test("/metrics exposes every documented series with HELP and TYPE, values from the real sources", async () => {
  // on a brand-new cluster the group coordinator (__consumer_offsets) may take a few seconds to
  // appear: the scrape then reports shopstream_source_up{source="kafka"} 0 and says why
  let res = await app().request("/metrics");
  for (let i = 0; i < 60 && !(await res.clone().text()).includes('shopstream_source_up{source="kafka"} 1'); i++) {
    await Bun.sleep(500);
    res = await app().request("/metrics");
  }
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toContain("text/plain");
  const text = await res.text();
  if (scrapeErrors.length) console.error(`scrape errors before Kafka answered: ${scrapeErrors.slice(0, 3).join(" | ")}`);
  expect(text).toContain('shopstream_source_up{source="kafka"} 1');
  expect(text).toContain('shopstream_source_up{source="redis"} 1');
  expect(text).toContain('shopstream_source_up{source="postgres"} 1');
  const series = [
    "shopstream_messages_produced_total",
    "shopstream_messages_consumed_total",
    "shopstream_dlq_messages_total",
    "shopstream_consumer_lag",
    "shopstream_consumer_batch_size",
    "shopstream_db_write_seconds",
    "shopstream_cache_hit_ratio",
    "shopstream_cache_reloads",
    "shopstream_cache_age_seconds",
    "shopstream_users_by_grade",
    "shopstream_orders_per_second",
    "shopstream_orders_by_status",
    "shopstream_parked_records",
  ];
  for (const name of series) {
    expect(text).toContain(`# HELP ${name} `);
    expect(text).toContain(`# TYPE ${name} `);
  }
  expect(text).toMatch(/shopstream_messages_produced_total\{topic="orders"\} 3\b/);
  expect(text).toMatch(/shopstream_messages_consumed_total\{topic="orders"\} 2\b/);
  const lag = [...text.matchAll(/shopstream_consumer_lag\{[^}]*topic="[^"]*orders"[^}]*\} (\d+)/g)].reduce((s, m) => s + Number(m[1]), 0);
  expect(lag).toBe(3);
  expect(text).toContain(`shopstream_parked_records{topic="${t.names.topic("orders")}"} 1\n`);
  expect(text).toMatch(/shopstream_users_by_grade\{grade="GOLD"\} 1\b/);
  expect(text).toMatch(/shopstream_cache_entries\{kind="users"\} 2\b/);
  expect(text).toMatch(/shopstream_orders_per_second \d/);
  // every status has its series, 0 included
  expect([...text.matchAll(/shopstream_orders_by_status\{status="(\w+)"\} (\d+)/g)].map((m) => `${m[1]} ${m[2]}`)).toEqual([
    "PAID 1",
    "SHIPPED 0",
    "DELIVERED 0",
    "CANCELLED 1",
    "REFUNDED 0",
  ]);
});

test("snapshots any local process could write are checked before they are summed: no label explosion, no foreign metric", async () => {
  const series = (n: number) =>
    JSON.stringify([
      {
        name: "shopstream_messages_produced_total",
        help: "h",
        type: "counter",
        aggregator: "sum",
        values: Array.from({ length: n }, (_, i) => ({ value: 1, labels: { topic: `t${i}` } })),
      },
    ]);
  await redis.set(snapshotKey(prefix, "order-consumer-9"), series(10_000)); // 10,000 label values
  await redis.set(
    snapshotKey(prefix, "intruder"),
    JSON.stringify([{ name: "evil_total", help: "h", type: "counter", values: [{ value: 1, labels: {} }] }]),
  );
  await redis.set(snapshotKey(prefix, "Not A Name!"), series(1));
  await redis.set(snapshotKey(prefix, "producer-2"), "{not json");
  try {
    const errors: string[] = [];
    const reg = await buildRegistry(sources(errors));
    const text = await reg.metrics();
    expect(text).not.toContain('topic="t9999"');
    expect(text).not.toContain("evil_total");
    expect(text).toMatch(/shopstream_messages_produced_total\{topic="orders"\} 3\b/); // the honest snapshot still counts
    expect(errors.join("\n")).toContain("metric snapshots skipped");
  } finally {
    await redis.del(...["order-consumer-9", "intruder", "Not A Name!", "producer-2"].map((n) => snapshotKey(prefix, n)));
  }
});

test("scrapes close together share one read of the sources", async () => {
  let lagReads = 0;
  const admin = new Proxy(t.admin, {
    get(target, key, receiver) {
      if (key === "offsets") lagReads++;
      return Reflect.get(target, key, receiver);
    },
  });
  const sources = { redis, db: db.sql, admin, keys, names: t.names, prefix, minReadIntervalMs: 60_000 };
  const texts = await Promise.all(Array.from({ length: 20 }, () => buildRegistry(sources).then((r) => r.metrics())));
  const reads = lagReads;
  await buildRegistry(sources);
  expect(lagReads).toBe(reads); // the 21st, later, too
  expect(reads).toBeGreaterThan(0);
  // all answered from that read (the cache age alone is computed per scrape)
  const lagOf = (text: string) => [...text.matchAll(/shopstream_consumer_lag\{[^}]*\} (\d+)/g)].map((m) => m[1]).join(",");
  expect(new Set(texts.map(lagOf)).size).toBe(1);
  // without the bound, every scrape reads again
  const before = lagReads;
  await buildRegistry({ ...sources, minReadIntervalMs: 0 });
  await buildRegistry({ ...sources, minReadIntervalMs: 0 });
  expect(lagReads).toBe(before + 2 * reads);
});

test("the exposition passes promtool check metrics", async () => {
  const text = await (await app().request("/metrics")).text();
  const promtool = Bun.which("promtool");
  expect(promtool).not.toBeNull(); // .ci/run installs it (Debian package prometheus)
  const proc = Bun.spawn([promtool!, "check", "metrics"], { stdin: new Blob([text]), stdout: "pipe", stderr: "pipe" });
  const [code, out, err] = await Promise.all([proc.exited, new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  expect(`${out}${err}`.trim()).toBe("");
  expect(code).toBe(0);
});

test("/healthz reports each dependency, and 503 with the reason when one is down", async () => {
  const healthy = await app().request("/healthz");
  expect(healthy.status).toBe(200);
  expect(await healthy.json()).toEqual({ ok: true, postgres: true, redis: true, kafka: true });
  // a real client of a Redis that is not there (nothing listens on port 1)
  const gone = connectRedis("redis://127.0.0.1:1", { lazy: true, log: testLogger("redis") });
  try {
    const down = await app(gone).request("/healthz");
    expect(down.status).toBe(503);
    const body = (await down.json()) as { ok: boolean; redis: boolean; postgres: boolean; errors: { redis?: string } };
    expect(body).toMatchObject({ ok: false, redis: false, postgres: true });
    expect(body.errors.redis).toMatch(/^unreachable: ./);
    expect(Object.keys(body)).not.toContain("flink"); // unknown, not down
  } finally {
    gone.disconnect();
  }
});

test("/healthz checks a Flink job only while one ships its state: a failed job is 503 with why, a running one healthy", async () => {
  // what `bun run flink` ships, through the same publisher
  const ship = async (run: string, state: string) => {
    flinkJob.reset();
    flinkJob.set({ state }, 1);
    await publishMetrics(redis, prefix, run, 60_000)();
  };
  try {
    await ship("flink-revenue", "RUNNING");
    const running = await app().request("/healthz");
    expect(running.status).toBe(200);
    expect(await running.json()).toEqual({ ok: true, postgres: true, redis: true, kafka: true, flink: true });
    // another run failed beside it: not hidden by the one still running
    await ship("flink-orders", "FAILED");
    const failed = await app().request("/healthz");
    expect(failed.status).toBe(503);
    const body = (await failed.json()) as { ok: boolean; flink: boolean; errors: { flink?: string } };
    expect(body).toMatchObject({ ok: false, flink: false, postgres: true, redis: true, kafka: true });
    expect(body.errors.flink).toContain("a Flink job failed");
  } finally {
    flinkJob.reset();
    await redis.del(snapshotKey(prefix, "flink-revenue"), snapshotKey(prefix, "flink-orders"));
  }
  // gone (its snapshot expired): no check at all
  expect(await (await app().request("/healthz")).json()).toEqual({ ok: true, postgres: true, redis: true, kafka: true });
});

test("the live page and its assets are served from this service alone; the scenario switch", async () => {
  const page = await (await app().request("/")).text();
  expect(page).toContain("shopstream");
  expect(page).toContain('src="/assets/uPlot.iife.min.js"');
  expect(page).not.toMatch(/https?:\/\//); // nothing from the network
  const script = await app().request("/assets/uPlot.iife.min.js");
  expect(script.status).toBe(200);
  expect(await script.text()).toContain("uPlot");
  expect((await app().request("/api/live")).status).toBe(503); // no sample yet
  expect((await app().request("/scenario/nonsense", { method: "PUT" })).status).toBe(400);
  expect(await (await app().request("/scenario/black_friday", { method: "PUT" })).json()).toEqual({ active: "black_friday" });
  expect(await scenarioSwitch.pinned()).toBe("black_friday");
  const list = (await (await app().request("/scenario")).json()) as { active: string; available: unknown[] };
  expect(list.active).toBe("black_friday");
  expect(list.available.length).toBe(21);
  await app().request("/scenario", { method: "DELETE" });
  expect(await scenarioSwitch.pinned()).toBeNull();
});

test("the order schema's version is pinned in Redis by PUT /schema-version/:n, refused when unknown or from elsewhere, cleared by DELETE", async () => {
  expect((await app().request("/schema-version/9", { method: "PUT" })).status).toBe(400);
  expect((await app().request("/schema-version/two", { method: "PUT" })).status).toBe(400);
  expect(await schemaSwitch.pinned()).toBeNull();
  const foreign = await app().request("http://x/schema-version/2", { method: "PUT", headers: { host: "evil.example" } });
  expect(foreign.status).toBe(403);
  expect(await schemaSwitch.pinned()).toBeNull();
  expect(await (await app().request("/schema-version/2", { method: "PUT" })).json()).toEqual({ pinned: 2 });
  expect(await redis.get(`${prefix}control:order-schema-version`)).toBe("2");
  expect(await (await app().request("/schema-version")).json()).toMatchObject({ pinned: 2, versions: [1, 2, 3] });
  await app().request("/schema-version", { method: "DELETE" });
  expect(await schemaSwitch.pinned()).toBeNull();
});

test("only this server's own page and loopback clients change the scenario (no DNS rebinding, no foreign page)", async () => {
  const put = (headers: Record<string, string>) => app().request("http://127.0.0.1:9464/scenario/golf_season", { method: "PUT", headers });
  // a page at evil.example that resolved itself to 127.0.0.1: its requests name its own host
  const rebound = await put({ host: "evil.example:9464", origin: "http://evil.example:9464" });
  expect(rebound.status).toBe(403);
  expect(((await rebound.json()) as { error: string }).error).toContain('Host "evil.example:9464" is not this server');
  // a foreign page sending to our real address
  expect((await put({ host: "127.0.0.1:9464", origin: "http://evil.example" })).status).toBe(403);
  expect((await app().request("http://localhost/scenario", { method: "DELETE", headers: { host: "evil.example" } })).status).toBe(403);
  expect(await scenarioSwitch.pinned()).toBeNull(); // none of them changed anything
  // curl (no Origin), the live page itself (same origin), IPv6 loopback, an allowed name
  expect((await put({ host: "127.0.0.1:9464" })).status).toBe(200);
  expect((await put({ host: "127.0.0.1:9464", origin: "http://127.0.0.1:9464" })).status).toBe(200);
  expect((await put({ host: "[::1]:9464" })).status).toBe(200);
  expect((await put({ host: "shop.internal" })).status).toBe(200);
  expect(await scenarioSwitch.pinned()).toBe("golf_season");
  // reading stays open to any client
  expect((await app().request("http://x/scenario", { headers: { host: "evil.example" } })).status).toBe(200);
  await app().request("/scenario", { method: "DELETE" });
});

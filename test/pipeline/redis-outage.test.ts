import { afterAll, beforeAll, expect, test } from "bun:test";
import { seedCatalogue } from "../../src/db/seed.ts";
import { createTestDatabase, type TestDatabase } from "../../support/db.ts";
import { createTestTopics, waitForZeroLag, type TestTopics } from "../support/kafka.ts";
import { PrivateRedis } from "../support/redis-server.ts";
import { startService, type RunningService } from "../support/services.ts";
import { until as waitUntil } from "../support/until.ts";

// Redis dies under a running producer and comes back: the producer says so, keeps publishing from
// its last snapshot, and follows the cache again once the cache-worker has reloaded it.

let db: TestDatabase;
let t: TestTopics;
const redis = new PrivateRedis();
const running: RunningService[] = [];

beforeAll(async () => {
  [db, t] = await Promise.all([createTestDatabase("outage"), createTestTopics("outage"), redis.start()]);
  await seedCatalogue(db.sql, { seed: "outage", users: 1500, products: 1500, now: new Date() });
});
afterAll(async () => {
  await Promise.all(running.map((s) => s.stop()));
  await redis.destroy();
  await t.cleanup();
  await db.drop();
});

const ordersInTopic = async () => (await t.admin.offsets(t.names.topic("orders"))).reduce((s, p) => s + p.high, 0);
const generations = (s: RunningService) => (s.output().match(/cache generation/g) ?? []).length;

const until = (what: string, check: () => boolean | Promise<boolean>, timeoutMs = 20_000) =>
  waitUntil(what, check, { timeoutMs, pollMs: 100 });

test("the producer survives a Redis outage and recovers by itself", async () => {
  const env = { DATABASE_URL: db.url, REDIS_URL: redis.url, TOPIC_PREFIX: t.prefix, CACHE_REFRESH_S: "1" };
  const cacheWorker = startService("cache-worker", "cache-worker.ts", [], env);
  const producer = startService("producer", "producer.ts", ["--rate", "50"], env);
  const orders = startService("orders", "consumer.ts", ["orders"], env);
  running.push(cacheWorker, producer, orders);
  // a set-up wait: three services starting beside a loaded CI run once took over 20 s
  await until("the first cache generation", () => generations(producer) >= 1, 60_000);

  await redis.kill();
  await until("the producer to report Redis unreachable", () => producer.output().includes("Redis unreachable"));
  const before = await ordersInTopic();
  await Bun.sleep(1500);
  expect(await ordersInTopic()).toBeGreaterThan(before); // still publishing from the last snapshot
  expect(producer.proc.exitCode).toBeNull();

  const generationsBefore = generations(producer);
  await redis.start();
  await until("a new cache generation after Redis returned", () => generations(producer) > generationsBefore);

  expect(await producer.stop()).toBe(0);
  await waitForZeroLag(t.admin, t.names, 60_000, ["orders"]);
  const [{ n }] = (await db.sql`select count(*)::int as n from orders`) as unknown as [{ n: number }];
  expect(n).toBe(await ordersInTopic());
  expect(await cacheWorker.stop()).toBe(0);
  expect(await orders.stop()).toBe(0);
}, 120_000);

import { afterAll, beforeAll, expect, test } from "bun:test";
import { connectRedis, deleteByPrefix } from "../../src/cache/client.ts";
import { cacheKeys } from "../../src/cache/keys.ts";
import { DEFAULT_SPLIT, reloadCache } from "../../src/cache/reload.ts";
import { seedCatalogue } from "../../src/db/seed.ts";
import { createTestDatabase, type TestDatabase, uniqueSuffix } from "../../support/db.ts";
import { config, createTestTopics, type TestTopics } from "../support/kafka.ts";
import { type RunningService, startService } from "../support/services.ts";
import { until } from "../support/until.ts";

// A run's first order does not wait for the volume curve (docs/design.md, "Live cadence"): with
// ORDER_INTERVAL_S=60-60 every gap of the curve is 20–30 s whatever the hour (60 s ÷ the hour's
// volume, clamped to 30 s), yet the first order reaches Kafka within seconds of the cache being in.

let db: TestDatabase;
let t: TestTopics;
let producer: RunningService | undefined;
const cachePrefix = `test:firstorder:${uniqueSuffix()}:`;
const redis = connectRedis(config.redisUrl);

beforeAll(async () => {
  [db, t] = await Promise.all([createTestDatabase("firstorder"), createTestTopics("firstorder")]);
  await seedCatalogue(db.sql, { seed: "firstorder", users: 300, products: 300, now: new Date() });
  await reloadCache(db.sql, redis, cacheKeys(cachePrefix), DEFAULT_SPLIT);
});

afterAll(async () => {
  await producer?.stop();
  await deleteByPrefix(redis, cachePrefix);
  redis.disconnect();
  await t.cleanup();
  await db.drop();
});

const ordersInKafka = async () => (await t.admin.offsets(t.names.topic("orders"))).reduce((n, p) => n + p.high - p.low, 0);

test("the first order is published at once, even when the curve spaces orders 20–30 s apart", async () => {
  producer = startService("producer", "producer.ts", [], {
    TOPIC_PREFIX: t.prefix,
    CACHE_PREFIX: cachePrefix,
    SEED: "firstorder",
    ORDER_INTERVAL_S: "60-60",
    METRICS_PORT: "0",
  });
  await until("the producer has its cache", () => producer!.output().includes("publishing"), { timeoutMs: 30_000, services: [producer] });
  const ready = performance.now();
  // the producer's batching and acks=all take a moment; the curve's first gap would be 20 s or more
  await until("the first order in Kafka", async () => (await ordersInKafka()) > 0, { timeoutMs: 5000, pollMs: 100, services: [producer] });
  expect(performance.now() - ready).toBeLessThan(5000);
  // later orders keep the curve: nothing more for a while
  await Bun.sleep(3000);
  expect(await ordersInKafka()).toBe(1);
  expect(await producer.stop()).toBe(0);
});

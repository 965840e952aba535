import { afterAll, beforeAll, expect, test } from "bun:test";
import { seedCatalogue } from "../../src/db/seed.ts";
import { createTestDatabase, uniqueSuffix, type TestDatabase } from "../../support/db.ts";
import { createTestTopics, waitForZeroLag, type TestTopics } from "../support/kafka.ts";
import { readTopic } from "../../src/kafka/read-topic.ts";
import { startService, type RunningService } from "../support/services.ts";
import { outputs, until } from "../support/until.ts";
import { connectRedis, deleteByPrefix } from "../../src/cache/client.ts";
import { createdIds } from "../../support/events.ts";

// The whole live pipeline, accelerated: cache-worker, producer, user-seeder and the nine consumers
// as real processes against the real PostgreSQL, Redis and 3-broker Kafka, for a bounded time.

const RUN_MS = Number(process.env.E2E_RUN_MS ?? 15_000);
let db: TestDatabase;
let t: TestTopics;
let env: Record<string, string>;
const cachePrefix = `test:e2e:${uniqueSuffix()}:`;
const running: RunningService[] = [];

beforeAll(async () => {
  [db, t] = await Promise.all([createTestDatabase("e2e"), createTestTopics("e2e")]);
  await seedCatalogue(db.sql, { seed: "e2e", users: 2000, products: 2000, now: new Date() });
  env = {
    DATABASE_URL: db.url,
    TOPIC_PREFIX: t.prefix,
    CACHE_PREFIX: cachePrefix,
    SEED: "e2e",
    SPEED: "100",
    CACHE_REFRESH_S: "50",
    METRICS_PORT: "0",
  };
});

afterAll(async () => {
  await Promise.all(running.map((s) => s.stop()));
  const redis = connectRedis(process.env.REDIS_URL ?? "redis://127.0.0.1:6379");
  await deleteByPrefix(redis, cachePrefix);
  redis.disconnect();
  await t.cleanup();
  await db.drop();
});

test("every acknowledged order lands in PostgreSQL exactly once, with consistent side effects", async () => {
  const consumers = (["users", "products", "orders"] as const).flatMap((topic) =>
    [1, 2, 3].map((i) => startService(`${topic}-${i}`, "consumer.ts", [topic], { ...env, INSTANCE: String(i) })),
  );
  const cacheWorker = startService("cache-worker", "cache-worker.ts", [], env);
  running.push(...consumers, cacheWorker);
  await Bun.sleep(2000); // consumers join their groups while the cache fills
  // a fixed rate keeps the volume independent of the hour the suite runs at
  const producer = startService("producer", "producer.ts", ["--rate", "100"], env);
  const userSeeder = startService("user-seeder", "user-seeder.ts", ["--speed", "200"], env);
  // the run is timed from the first order: a busy machine can take seconds to start a process
  await until("the producer publishes", () => producer.output().includes("publishing"), { services: [producer] });
  await Bun.sleep(RUN_MS);

  expect(await producer.stop()).toBe(0);
  expect(await userSeeder.stop()).toBe(0);
  const stopped = /stopped: (\d+) orders generated, (\d+) acknowledged/.exec(producer.output());
  expect(stopped).not.toBeNull();
  const acknowledgedOrders = Number(stopped![2]);
  expect(acknowledgedOrders).toBe(Number(stopped![1]));
  expect(acknowledgedOrders).toBeGreaterThan((RUN_MS / 1000) * 20);

  await waitForZeroLag(t.admin, t.names, 90_000).catch((err: Error) => {
    throw new Error(`${err.message}${outputs(consumers)}`);
  });

  // exactly once: the ids in the topic are the ids in the table, no more, no fewer
  const published = await readTopic(t.client, t.admin, t.names.topic("orders"));
  const publishedIds = createdIds(published).sort();
  const storedIds = (await db.sql`select id from orders order by id`).map((r) => r.id as string);
  expect(new Set(publishedIds).size).toBe(publishedIds.length);
  expect(publishedIds.length).toBe(acknowledgedOrders);
  expect(storedIds).toEqual(publishedIds);
  // one user's orders stay on one partition
  const partitionsByUser = new Map<string, Set<number>>();
  for (const m of published) partitionsByUser.set(m.key!, (partitionsByUser.get(m.key!) ?? new Set()).add(m.partition));
  expect([...partitionsByUser.values()].every((p) => p.size === 1)).toBe(true);

  // side effects agree with the orders table
  const [inconsistent] = await db.sql`
    select
      (select count(*) from users u where u.last_ordered_at is distinct from (select max(created_at) from orders o where o.user_id = u.id))::int as users,
      (select count(*) from products p where p.order_count <> (select count(*) from orders o where o.product_id = p.id))::int as products`;
  expect(inconsistent).toEqual({ users: 0, products: 0 });

  // new users and products arrived through Kafka
  const [counts] = await db.sql`select (select count(*) from users)::int as users, (select count(*) from products)::int as products`;
  expect(counts!.users).toBeGreaterThan(2000);
  expect(counts!.products).toBeGreaterThan(2000);

  // no dead letters from our own producers
  for (const entity of ["users", "products", "orders"] as const) {
    expect(await readTopic(t.client, t.admin, t.names.dlq(entity))).toHaveLength(0);
  }

  const codes = await Promise.all([...consumers, cacheWorker].map((s) => s.stop()));
  expect(codes.every((c) => c === 0)).toBe(true);
  await waitForZeroLag(t.admin, t.names, 10_000);
}, 240_000);

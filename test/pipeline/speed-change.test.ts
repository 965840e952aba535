import { afterAll, beforeAll, expect, test } from "bun:test";
import { connectRedis, deleteByPrefix } from "../../src/cache/client.ts";
import { cacheKeys } from "../../src/cache/keys.ts";
import { reloadCache, widenedSplit } from "../../src/cache/reload.ts";
import { seedCatalogue } from "../../src/db/seed.ts";
import { isLegal, pathTo } from "../../src/domain/order-status.ts";
import { readTopic } from "../../src/kafka/read-topic.ts";
import { createTestDatabase, type TestDatabase, uniqueSuffix } from "../../support/db.ts";
import { createdIds } from "../../support/events.ts";
import { config, createTestTopics, type TestTopics, waitForSettled } from "../support/kafka.ts";
import { storedOrders, storedSteps } from "../support/lifecycle.ts";
import { type RunningService, startService } from "../support/services.ts";

// The lifecycle's clock changed across a restart with orders in flight: the consumers and the
// lifecycle service run under one SPEED, are stopped while orders wait for their next steps, and
// come back five times faster. A step planned under the new SPEED is never placed before the
// order's last change (it would be refused for ever): every order still runs its course to the
// end, with a legal history in time order, and nothing is dead-lettered.

const SEED = "speed-change";
const SLOW = 20_000;
const FAST = 100_000;
const ORDERS = 300;
let db: TestDatabase;
let t: TestTopics;
let env: Record<string, string>;
const cachePrefix = `test:speed:${uniqueSuffix()}:`;
const running: RunningService[] = [];
const start = (name: string, file: string, args: string[], extra: Record<string, string> = {}) => {
  const s = startService(name, file, args, { ...env, ...extra });
  running.push(s);
  return s;
};

beforeAll(async () => {
  [db, t] = await Promise.all([createTestDatabase("speed_change"), createTestTopics("speed")]);
  await seedCatalogue(db.sql, { seed: SEED, users: 150, products: 400, now: new Date() });
  const redis = connectRedis(config.redisUrl);
  await reloadCache(db.sql, redis, cacheKeys(cachePrefix), widenedSplit(150));
  redis.disconnect();
  env = { DATABASE_URL: db.url, TOPIC_PREFIX: t.prefix, CACHE_PREFIX: cachePrefix, SEED, METRICS_PORT: "0" };
});

afterAll(async () => {
  await Promise.all(running.map((s) => s.stop()));
  const redis = connectRedis(config.redisUrl);
  await deleteByPrefix(redis, cachePrefix);
  redis.disconnect();
  await t.cleanup();
  await db.drop();
});

test("a faster --speed after a restart, with orders in flight: every order still runs its course, nothing refused", async () => {
  const pipeline = (speed: number, round: number) => [
    ...[1, 2].map((i) => start(`orders-${round}-${i}`, "consumer.ts", ["orders", "--speed", String(speed)], { INSTANCE: String(i) })),
    start(`lifecycle-${round}`, "lifecycle.ts", ["--speed", String(speed)]),
  ];
  const slow = pipeline(SLOW, 1);
  await Bun.sleep(2000); // the consumers join their group
  const producer = start("producer", "producer.ts", ["--rate", "50", "--count", String(ORDERS)]);
  expect(await producer.proc.exited).toBe(0);
  await Bun.sleep(3000); // some orders shipped, most still waiting for a step planned under SLOW
  const [midway] = await db.sql`
    select count(*) filter (where status <> 'PAID')::int as moved, count(*) filter (where next_status is not null)::int as waiting from orders`;
  expect(midway!.moved).toBeGreaterThan(0);
  expect(midway!.waiting).toBeGreaterThan(ORDERS / 2);
  for (const s of slow) expect(await s.stop()).toBe(0);

  pipeline(FAST, 2);
  for (const deadline = Date.now() + 120_000; ; await Bun.sleep(500)) {
    const [left] = await db.sql`select count(*) filter (where next_status is not null)::int as scheduled from orders`;
    if (left!.scheduled === 0) break;
    if (Date.now() > deadline) throw new Error(`${left!.scheduled} order(s) still scheduled after two minutes`);
  }
  await waitForSettled(t, db.sql, ["orders"]);

  const published = await readTopic(t.client, t.admin, t.names.topic("orders"));
  const orders = await storedOrders(db.sql);
  expect(orders.map((o) => o.id)).toEqual([...new Set(createdIds(published))].sort());
  const byOrder = Map.groupBy(await storedSteps(db.sql), (e) => e.order_id);
  for (const o of orders) {
    // a step planned under the new SPEED before its predecessor is placed at that very instant: ties
    // go by the path's order
    const steps = (byOrder.get(o.id) ?? []).sort(
      (a, b) => a.at.getTime() - b.at.getTime() || pathTo(a.from_status).length - pathTo(b.from_status).length,
    );
    let status = "PAID";
    let at = o.created_at.getTime();
    for (const s of steps) {
      expect([o.id, s.from_status, isLegal(s.from_status, s.to_status)]).toEqual([o.id, status, true]);
      expect(s.at.getTime()).toBeGreaterThanOrEqual(at); // never before the change it follows
      status = s.to_status;
      at = s.at.getTime();
    }
    expect([o.id, o.status]).toEqual([o.id, status]);
    expect(["CANCELLED", "DELIVERED", "REFUNDED"]).toContain(o.status); // run to the end
  }
  expect(await readTopic(t.client, t.admin, t.names.dlq("orders"))).toHaveLength(0);
}, 240_000);

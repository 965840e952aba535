import { afterAll, beforeAll, expect, test } from "bun:test";
import { connectRedis, deleteByPrefix } from "../../src/cache/client.ts";
import { connect } from "../../src/db/client.ts";
import { openDatabase } from "../../src/db/open.ts";
import { insertProducts, insertUsers } from "../../src/db/writers.ts";
import { encode } from "../../src/kafka/envelope.ts";
import type { BatchingProducer } from "../../src/kafka/producer.ts";
import { order, product, user } from "../support/fixtures.ts";
import { uniqueSuffix } from "../../support/db.ts";
import { config, createTestTopics, waitForZeroLag, type TestTopics } from "../support/kafka.ts";
import { readTopic } from "../../src/kafka/read-topic.ts";
import { PrivatePostgres } from "../support/postgres-server.ts";
import { startService, type RunningService } from "../support/services.ts";

// PostgreSQL crashes under running order consumers and comes back: nothing is committed past the
// outage, nothing is dead-lettered, and every order ends up stored exactly once.

const pg = new PrivatePostgres();
let t: TestTopics;
let producer: BatchingProducer;
const consumers: RunningService[] = [];
// the consumers publish their metrics to Redis: under a prefix of this suite's own, removed afterwards
const cachePrefix = `test:pgoutage:${uniqueSuffix()}:`;

beforeAll(async () => {
  [t] = await Promise.all([createTestTopics("pgoutage"), pg.init()]);
  const sql = await openDatabase(pg.url);
  await insertUsers(sql, [user("U_p1"), user("U_p2"), user("U_p3")]);
  await insertProducts(sql, [product("P_p1")]);
  await sql.end();
  producer = await t.producer();
});
afterAll(async () => {
  await Promise.all(consumers.map((c) => c.stop()));
  await t.cleanup();
  pg.destroy();
  const redis = connectRedis(config.redisUrl);
  await deleteByPrefix(redis, cachePrefix);
  redis.disconnect();
});

const publish = (from: number, to: number) =>
  Promise.all(
    Array.from({ length: to - from }, (_, i) => {
      const o = order(`O_p${from + i}`, `U_p${1 + ((from + i) % 3)}`, "P_p1");
      return producer.send(t.names.topic("orders"), { key: o.user_id, value: encode("orders", o) });
    }),
  );

test("consumers ride out a PostgreSQL crash without losing or duplicating an order", async () => {
  const env = { DATABASE_URL: pg.url, TOPIC_PREFIX: t.prefix, CACHE_PREFIX: cachePrefix };
  for (const i of [1, 2]) consumers.push(startService(`orders-${i}`, "consumer.ts", ["orders"], { ...env, INSTANCE: String(i) }));
  await publish(0, 200);
  await waitForZeroLag(t.admin, t.names, 60_000, ["orders"]);

  pg.stop();
  await publish(200, 400); // arrive while the database is down
  await Bun.sleep(2000);
  const during = consumers.map((c) => c.output()).join("\n");
  expect(during).toContain("write to PostgreSQL failed");
  await pg.start();
  await waitForZeroLag(t.admin, t.names, 60_000, ["orders"]);

  const sql = connect(pg.url, { max: 1 });
  const [row] = await sql`select count(*)::int as n, count(distinct id)::int as d from orders`;
  const [p] = await sql`select order_count from products where id = 'P_p1'`;
  await sql.end();
  expect(row).toEqual({ n: 400, d: 400 });
  expect(p!.order_count).toBe(400);
  expect(await readTopic(t.client, t.admin, t.names.dlq("orders"))).toHaveLength(0);
  for (const c of consumers.splice(0)) expect(await c.stop()).toBe(0);
}, 120_000);

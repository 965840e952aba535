import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { insertProducts, insertUsers } from "../../src/db/writers.ts";
import { encode } from "../../src/kafka/envelope.ts";
import type { BatchingProducer } from "../../src/kafka/batching-producer.ts";
import { postgresSink } from "../../src/pipeline/postgres-sink.ts";
import type { EntityTopic } from "../../src/kafka/topics.ts";
import { createTestDatabase, type TestDatabase } from "../../support/db.ts";
import { order, product, user } from "../support/fixtures.ts";
import { createTestTopics, waitForZeroLag, type TestTopics } from "../support/kafka.ts";
import { readTopic } from "../../src/kafka/read-topic.ts";

let db: TestDatabase;
let t: TestTopics;
let producer: BatchingProducer;
let batches = 0;

const startConsumer = (entity: EntityTopic) =>
  t.consumer({ entity, dlq: producer, sink: postgresSink(db.sql, entity), retryForMs: 3000, hooks: { onBatch: () => void batches++ } });

const distinctSources = (dead: { source: { partition: number; offset: string } }[]) =>
  new Set(dead.map((d) => `${d.source.partition}:${d.source.offset}`)).size;
const send = (entity: EntityTopic, key: string, value: string) => producer.send(t.names.topic(entity), { key, value });
const count = async (table: string) => (await db.sql.unsafe(`select count(*)::int as n from ${table}`))[0]!.n as number;

beforeAll(async () => {
  [db, t] = await Promise.all([createTestDatabase("consumer"), createTestTopics("consumer")]);
  producer = await t.producer();
  await insertUsers(db.sql, [user("U_k1"), user("U_k2")]);
  await insertProducts(db.sql, [product("P_k1"), product("P_k2")]);
});
afterAll(async () => {
  await t.cleanup();
  await db.drop();
});

describe("order consumer against real Kafka and PostgreSQL", () => {
  const good = [
    order("O_k1", "U_k1", "P_k1", { created_at: new Date("2025-05-01T00:00:00Z") }),
    order("O_k2", "U_k2", "P_k1", { created_at: new Date("2025-05-02T00:00:00Z") }),
    order("O_k3", "U_k1", "P_k2", { created_at: new Date("2025-05-03T00:00:00Z") }),
  ];

  test("poison messages go to the DLQ with reason and source; good ones around them are stored", async () => {
    const valid = (o: (typeof good)[number]) => encode("orders", o);
    const poison: [string, string][] = [
      ["not JSON", "{not json"],
      ["wrong version", valid(good[0]!).replace('"v":1', '"v":2')],
      ["missing field", JSON.stringify({ ...JSON.parse(valid(good[0]!)), data: { id: "O_bad" } })],
      ["negative quantity", valid(order("O_neg", "U_k1", "P_k1")).replace('"quantity":1', '"quantity":-1')],
      ["unknown product", valid(order("O_ghost", "U_k1", "P_nowhere"))],
    ];
    await Promise.all([
      send("orders", "U_k1", valid(good[0]!)),
      ...poison.map(([, v]) => send("orders", "U_k1", v)),
      send("orders", "U_k2", valid(good[1]!)),
      send("orders", "U_k1", valid(good[2]!)),
    ]);
    await startConsumer("orders");
    await waitForZeroLag(t.admin, t.names);

    expect((await db.sql`select id from orders order by id`).map((r) => r.id)).toEqual(["O_k1", "O_k2", "O_k3"]);
    const dead = (await readTopic(t.client, t.admin, t.names.dlq("orders"))).map((m) => JSON.parse(m.value));
    // at least once: a batch replayed after a rebalance may dead-letter a record twice
    expect(distinctSources(dead)).toBe(poison.length);
    for (const d of dead) {
      expect(d.source.topic).toBe(t.names.topic("orders"));
      expect(typeof d.source.partition).toBe("number");
      expect(Number(d.source.offset)).toBeGreaterThanOrEqual(0);
      expect(d.reason.length).toBeGreaterThan(3);
    }
    const reasons = dead.map((d) => d.reason).join(" | ");
    expect(reasons).toContain("not JSON");
    expect(reasons).toContain("v:");
    expect(reasons).toContain("quantity");
    expect(reasons).toContain("did not arrive");
    // the raw value is kept so nothing is lost
    expect(dead.some((d) => d.value === "{not json")).toBe(true);
  });

  test("replaying already-consumed messages leaves the database unchanged", async () => {
    const snapshot = async () => ({
      orders: await count("orders"),
      users: await db.sql`select id, last_ordered_at from users order by id`,
      products: await db.sql`select id, order_count from products order by id`,
    });
    const before = await snapshot();
    expect(before.products.map((p) => p.order_count)).toEqual([2, 1]);
    const batchesBefore = batches;
    await Promise.all(good.map((o) => send("orders", o.user_id, encode("orders", o))));
    await waitForZeroLag(t.admin, t.names);
    expect(batches).toBeGreaterThan(batchesBefore);
    expect(await snapshot()).toEqual(before);
  });

  test("an order whose user has not arrived yet is retried, not dropped", async () => {
    await startConsumer("users");
    const late = user("U_late");
    await send("orders", "U_late", encode("orders", order("O_late", "U_late", "P_k2")));
    await Bun.sleep(800); // the order consumer is now retrying it
    expect(await count("orders")).toBe(3);
    await send("users", late.id, encode("users", late));
    await waitForZeroLag(t.admin, t.names);
    expect((await db.sql`select user_id from orders where id = 'O_late'`)[0]?.user_id).toBe("U_late");
    expect(distinctSources((await readTopic(t.client, t.admin, t.names.dlq("orders"))).map((m) => JSON.parse(m.value)))).toBe(5);
  });
});

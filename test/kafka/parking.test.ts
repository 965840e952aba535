import { afterAll, beforeAll, expect, test } from "bun:test";
import { parkingLot } from "../../src/db/parking.ts";
import { insertProducts, insertUsers } from "../../src/db/writers.ts";
import type { StatusChange } from "../../src/domain/types.ts";
import { encode } from "../../src/kafka/envelope.ts";
import type { BatchingProducer } from "../../src/kafka/batching-producer.ts";
import { readTopic } from "../../src/kafka/read-topic.ts";
import { postgresSink } from "../../src/pipeline/postgres-sink.ts";
import { createTestDatabase, type TestDatabase } from "../../support/db.ts";
import { order, product, user } from "../support/fixtures.ts";
import { Kafka, logLevel } from "kafkajs";
import type { DeadLetter } from "../../src/kafka/dead-letter.ts";
import { config, createTestTopics, waitForZeroLag, type TestTopics } from "../support/kafka.ts";
import { until } from "../support/until.ts";

// An order whose user has not arrived waits in the parking lot, not in its batch: the orders read
// with it are stored at once and the partition's offsets move on; what is read later about the
// same order (its lifecycle steps) waits behind it, and all of it is stored once the user comes.

const WAIT_MS = 8000;
let db: TestDatabase;
let t: TestTopics;
let producer: BatchingProducer;
const parked: number[] = [];

beforeAll(async () => {
  [db, t] = await Promise.all([createTestDatabase("parking"), createTestTopics("parking")]);
  producer = await t.producer();
  await insertUsers(db.sql, [user("U_here")]);
  await insertProducts(db.sql, [product("P_here")]);
  await t.consumer({
    entity: "orders",
    dlq: producer,
    sink: postgresSink(db.sql, "orders"),
    retryForMs: WAIT_MS,
    parking: parkingLot(db.sql),
    hooks: { onBatch: (b) => void parked.push(b.parked) },
  });
});
afterAll(async () => {
  await t.cleanup();
  await db.drop();
});

const stored = async (ids: string[]) =>
  (await db.sql<{ id: string; status: string }[]>`select id, status from orders where id = any(${ids}) order by id`).map(
    (r) => `${r.id}:${r.status}`,
  );
const step = (order_id: string, from: StatusChange["from"], to: StatusChange["to"], at: string): StatusChange => ({
  order_id,
  from,
  to,
  at: new Date(at),
  reason: "test",
});

test("an order waiting for its user holds none of its neighbours, and its steps wait behind it", async () => {
  const topic = t.names.topic("orders");
  // one key: the same partition, read in this order; the late user's order first
  const send = (value: string) => producer.send(topic, { key: "K_one", value });
  const late = order("O_late", "U_late", "P_here", { created_at: new Date("2025-06-01T00:00:00Z") });
  const neighbours = [1, 2, 3, 4, 5].map((n) =>
    order(`O_next${n}`, "U_here", "P_here", { created_at: new Date(`2025-06-0${n + 1}T00:00:00Z`) }),
  );
  await send(encode("orders", late));
  for (const o of neighbours) await send(encode("orders", o));

  // stored while the late order waits in the lot: held behind it, they would have come only after
  // its wait (WAIT_MS) ended in a dead letter, the lot empty by then (no stopwatch: a loaded machine
  // is slow, not wrong)
  const waiting = async () =>
    (await db.sql<{ n: number }[]>`select count(*)::int as n from parked_records where subject = ${late.id}`)[0]!.n;
  await until(
    "the neighbours stored while the late order waits",
    async () => (await stored(neighbours.map((o) => o.id))).length === 5 && (await waiting()) === 1,
    {
      timeoutMs: 30_000,
    },
  );
  await waitForZeroLag(t.admin, t.names, 10_000, ["orders"]); // committed past the waiting order
  expect(await stored([late.id])).toEqual([]);
  expect(parked.some((n) => n > 0)).toBe(true);

  // its steps are read while it waits: they wait behind it, in their order
  await send(encode("orders", step(late.id, "PAID", "SHIPPED", "2025-06-02T00:00:00Z")));
  await send(encode("orders", step(late.id, "SHIPPED", "DELIVERED", "2025-06-03T00:00:00Z")));
  await waitForZeroLag(t.admin, t.names, 10_000, ["orders"]);
  const [lot] = await db.sql`select count(*)::int as n from parked_records where subject = ${late.id}`;
  expect(lot!.n).toBe(3);

  // the user comes: the order and both steps are stored within a round or two, in order
  await insertUsers(db.sql, [user("U_late")]);
  await until("the late order delivered", async () => (await stored([late.id]))[0] === `${late.id}:DELIVERED`, { timeoutMs: 10_000 });
  const events = await db.sql`select order_id, to_status from order_events where order_id = ${late.id} order by at`;
  expect(events.map((e) => e.to_status)).toEqual(["SHIPPED", "DELIVERED"]);
  const [left] = await db.sql`select count(*)::int as n from parked_records`;
  expect(left!.n).toBe(0);
  const [counters] = await db.sql`select last_ordered_at from users where id = 'U_late'`;
  expect(counters!.last_ordered_at).toEqual(late.created_at);
  expect(await readTopic(t.client, t.admin, t.names.dlq("orders"))).toEqual([]);
});

test("an order whose user never comes leaves the lot as a dead letter once its wait is over, headers and all", async () => {
  const raw = new Kafka({ brokers: config.kafkaBrokers, logLevel: logLevel.NOTHING }).producer();
  await raw.connect();
  const lost = order("O_lost", "U_never", "P_here");
  const value = encode("orders", lost);
  const sentAt = Date.now();
  await raw.send({
    topic: t.names.topic("orders"),
    messages: [{ key: lost.user_id, value, headers: { source: "import", blob: Buffer.from([0xc3, 0x28]) } }],
  });
  await raw.disconnect();
  let dead: DeadLetter[] = [];
  await until(
    "the dead letter",
    async () =>
      (dead = (await readTopic(t.client, t.admin, t.names.dlq("orders")))
        .map((m) => JSON.parse(m.value) as DeadLetter)
        .filter((d) => d.key === "U_never")).length > 0,
    // the wait, then the lot's next round and the dead letter's send: seconds more on a loaded machine
    { timeoutMs: WAIT_MS + 60_000 },
  );
  expect(Date.now() - sentAt).toBeGreaterThanOrEqual(WAIT_MS);
  expect(dead).toHaveLength(1);
  expect(dead[0]).toMatchObject({
    reason: `references a user or product that did not arrive within ${WAIT_MS} ms`,
    key: "U_never",
    value, // the raw value as read
    headers: [
      { key: "source", value: "import" },
      { key: "blob", value: null, value_base64: "wyg=" },
    ],
  });
  expect(dead[0]!.attempts).toBeGreaterThan(1);
  const [left] = await db.sql`select count(*)::int as n from parked_records`;
  expect(left!.n).toBe(0);
  expect(await stored([lost.id])).toEqual([]);
});

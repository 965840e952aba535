import { afterAll, beforeAll, expect, test } from "bun:test";
import type { Consumer } from "kafkajs";
import { encode } from "../../src/kafka/envelope.ts";
import { SinkError, startEntityConsumer, type Sink } from "../../src/kafka/consumer.ts";
import { BatchingProducer } from "../../src/kafka/producer.ts";
import { order, product } from "../support/fixtures.ts";
import { createTestTopics, readTopic, waitForZeroLag, type TestTopics } from "../support/kafka.ts";

// The consumer's retry rules against a sink of the test's own (no database), on real Kafka.

let t: TestTopics;
let producer: BatchingProducer;
const consumers: Consumer[] = [];
const quiet = { info() {}, warn() {}, error() {} };

beforeAll(async () => {
  t = await createTestTopics("write-retry");
  producer = new BatchingProducer(t.kafka);
  await producer.connect();
});
afterAll(async () => {
  await Promise.all(consumers.map((c) => c.disconnect()));
  await producer.close();
  await t.cleanup();
});

test("a database outage does not count against the wait for a late reference", async () => {
  // the user is missing at first; then the database is down for longer than the whole wait; when
  // it is back the user is still missing once more, then arrives: the order is stored, not
  // dead-lettered
  const retryForMs = 1500;
  const calls: string[] = [];
  let downUntil = 0;
  const sink: Sink<"orders"> = async (items) => {
    if (calls.length === 0) {
      calls.push("missing");
      downUntil = Date.now() + retryForMs * 3;
      return { retryIds: items.map((o) => o.id), rejected: [] };
    }
    if (Date.now() < downUntil) {
      calls.push("down");
      throw new SinkError("connection refused", { permanent: false, sqlstate: "08006" });
    }
    if (!calls.includes("still missing")) {
      calls.push("still missing");
      return { retryIds: items.map((o) => o.id), rejected: [] };
    }
    calls.push("stored");
    return { retryIds: [], rejected: [] };
  };
  const o = order("O_outage", "U_late", "P_1");
  await producer.send(t.names.topic("orders"), { key: o.user_id, value: encode("orders", o) });
  consumers.push(
    await startEntityConsumer({ kafka: t.kafka, names: t.names, entity: "orders", dlq: producer, log: quiet, sink, retryForMs }),
  );
  await waitForZeroLag(t.admin, t.names, 60_000, ["orders"]);

  expect(calls[0]).toBe("missing");
  expect(calls.filter((c) => c === "down").length).toBeGreaterThan(1);
  expect(calls.at(-1)).toBe("stored");
  expect(await readTopic(t.kafka, t.admin, t.names.dlq("orders"))).toEqual([]);
});

test("a consumer retrying a write during a rebalance gives its batch up, so the group can move on", async () => {
  // A holds a batch it cannot write (the database is down for it); B joins the group. A's
  // heartbeat then reports the rebalance: A gives the batch back and rejoins, and B is consuming
  // within seconds, not after the rebalance timeout (60 s) that A would otherwise run out
  let aDown = true;
  let aTried = 0;
  const stored = new Set<string>();
  const failing: Sink<"products"> = async (items) => {
    aTried++;
    if (aDown) throw new SinkError("connection refused", { permanent: false, sqlstate: "08006" });
    for (const p of items) stored.add(p.id);
    return { retryIds: [], rejected: [] };
  };
  const working: Sink<"products"> = async (items) => {
    for (const p of items) stored.add(p.id);
    return { retryIds: [], rejected: [] };
  };
  const ids = Array.from({ length: 30 }, (_, i) => `P_rb${i}`);
  await Promise.all(ids.map((id) => producer.send(t.names.topic("products"), { key: id, value: encode("products", product(id)) })));
  consumers.push(
    await startEntityConsumer({ kafka: t.kafka, names: t.names, entity: "products", dlq: producer, log: quiet, sink: failing }),
  );
  for (const until = Date.now() + 30_000; aTried === 0; await Bun.sleep(100))
    if (Date.now() > until) throw new Error("consumer A never got a batch");

  const joined = Date.now();
  consumers.push(
    await startEntityConsumer({ kafka: t.kafka, names: t.names, entity: "products", dlq: producer, log: quiet, sink: working }),
  );
  while (stored.size === 0 && Date.now() - joined < 40_000) await Bun.sleep(100);
  expect(stored.size).toBeGreaterThan(0);
  expect(Date.now() - joined).toBeLessThan(25_000);

  aDown = false;
  await waitForZeroLag(t.admin, t.names, 90_000, ["products"]);
  expect([...stored].sort()).toEqual([...ids].sort());
});

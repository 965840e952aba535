import { afterAll, beforeAll, expect, test } from "bun:test";
import type { Consumer } from "kafkajs";
import { encode } from "../../src/kafka/envelope.ts";
import { SinkError, startEntityConsumer, type Sink } from "../../src/kafka/consumer.ts";
import { BatchingProducer } from "../../src/kafka/producer.ts";
import { order } from "../support/fixtures.ts";
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
  consumers.push(await startEntityConsumer({ kafka: t.kafka, names: t.names, entity: "orders", dlq: producer, log: quiet, sink, retryForMs }));
  await waitForZeroLag(t.admin, t.names, 60_000, ["orders"]);

  expect(calls[0]).toBe("missing");
  expect(calls.filter((c) => c === "down").length).toBeGreaterThan(1);
  expect(calls.at(-1)).toBe("stored");
  expect(await readTopic(t.kafka, t.admin, t.names.dlq("orders"))).toEqual([]);
});

import { afterAll, beforeAll, expect, test } from "bun:test";
import { encode, subjectOf } from "../../src/kafka/envelope.ts";
import { SinkError, type Sink } from "../../src/pipeline/sink.ts";
import type { BatchingProducer } from "../../src/kafka/batching-producer.ts";
import { order, product } from "../support/fixtures.ts";
import { createTestTopics, waitForZeroLag, type TestTopics } from "../support/kafka.ts";
import { readTopic } from "../../src/kafka/read-topic.ts";

// The consumer's retry rules against a sink of the test's own (no database), on real Kafka.

let t: TestTopics;
let producer: BatchingProducer;

beforeAll(async () => {
  t = await createTestTopics("write-retry");
  producer = await t.producer();
});
afterAll(async () => {
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
      return { retry: items.map((o) => ({ id: subjectOf(o), reason: "waiting for the test" })), rejected: [] };
    }
    if (Date.now() < downUntil) {
      calls.push("down");
      throw new SinkError("connection refused", { retriable: true, sqlstate: "08006" });
    }
    if (!calls.includes("still missing")) {
      calls.push("still missing");
      return { retry: items.map((o) => ({ id: subjectOf(o), reason: "waiting for the test" })), rejected: [] };
    }
    calls.push("stored");
    return { retry: [], rejected: [] };
  };
  const o = order("O_outage", "U_late", "P_1");
  await producer.send(t.names.topic("orders"), { key: o.user_id, value: encode("orders", o) });
  await t.consumer({ entity: "orders", dlq: producer, sink, retryForMs });
  await waitForZeroLag(t.admin, t.names, 60_000, ["orders"]);

  expect(calls[0]).toBe("missing");
  expect(calls.filter((c) => c === "down").length).toBeGreaterThan(1);
  expect(calls.at(-1)).toBe("stored");
  expect(await readTopic(t.client, t.admin, t.names.dlq("orders"))).toEqual([]);
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
    if (aDown) throw new SinkError("connection refused", { retriable: true, sqlstate: "08006" });
    for (const p of items) stored.add(p.id);
    return { retry: [], rejected: [] };
  };
  const working: Sink<"products"> = async (items) => {
    for (const p of items) stored.add(p.id);
    return { retry: [], rejected: [] };
  };
  const ids = Array.from({ length: 30 }, (_, i) => `P_rb${i}`);
  await Promise.all(ids.map((id) => producer.send(t.names.topic("products"), { key: id, value: encode("products", product(id)) })));
  await t.consumer({ entity: "products", dlq: producer, sink: failing });
  for (const until = Date.now() + 30_000; aTried === 0; await Bun.sleep(100))
    if (Date.now() > until) throw new Error("consumer A never got a batch");

  const joined = Date.now();
  await t.consumer({ entity: "products", dlq: producer, sink: working });
  while (stored.size === 0 && Date.now() - joined < 40_000) await Bun.sleep(100);
  expect(stored.size).toBeGreaterThan(0);
  expect(Date.now() - joined).toBeLessThan(25_000);

  aDown = false;
  await waitForZeroLag(t.admin, t.names, 90_000, ["products"]);
  expect([...stored].sort()).toEqual([...ids].sort());
});

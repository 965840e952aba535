import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { DEAD_KEY_MAX, DEAD_VALUE_MAX, type DeadLetter, deadKey, deadValue, noteDeadLetters } from "../../src/kafka/dead-letter.ts";
import { StormLog } from "../../src/log.ts";
import type { BatchingProducer } from "../../src/kafka/batching-producer.ts";
import { Kafka, logLevel } from "kafkajs";
import { config, createTestTopics, waitForZeroLag, type TestTopics } from "../support/kafka.ts";
import { until } from "../support/until.ts";
import { readTopic } from "../../src/kafka/read-topic.ts";

const jsonBytes = (s: string) => Buffer.byteLength(JSON.stringify(s)) - 2;

describe("a dead letter's copy of the raw value", () => {
  test("is whole up to the cap", () => {
    expect(deadValue(null)).toEqual({ value: null });
    expect(deadValue(Buffer.from("{not json"))).toEqual({ value: "{not json" });
    const ascii = Buffer.alloc(DEAD_VALUE_MAX, "a");
    expect(deadValue(ascii)).toEqual({ value: ascii.toString() });
  });

  test("is cut to the cap beyond it, with the full size recorded", () => {
    const big = Buffer.alloc(900_000, "a");
    const d = deadValue(big);
    expect(d.value).toBe("a".repeat(DEAD_VALUE_MAX));
    expect(d.value_bytes).toBe(900_000);
    expect(d.value_truncated).toBe(true);
  });

  test("counts the JSON escapes: control characters take six bytes each", () => {
    const control = Buffer.alloc(200_000, 1); // 1.2 MB once escaped
    const d = deadValue(control);
    expect(jsonBytes(d.value!)).toBeLessThanOrEqual(DEAD_VALUE_MAX);
    expect(d.value!.length).toBe(Math.floor(DEAD_VALUE_MAX / 6));
    expect(d).toMatchObject({ value_bytes: 200_000, value_truncated: true });
  });

  test("bytes that are not UTF-8 travel as base64, byte for byte, never with U+FFFD in their place", () => {
    const raw = Buffer.concat([Buffer.from('{"name":"'), Buffer.from([0xc3, 0x28, 0xff]), Buffer.from('"}')]);
    const d = deadValue(raw);
    expect(d).toEqual({ value: null, value_base64: raw.toString("base64") });
    expect(Buffer.from(d.value_base64!, "base64").equals(raw)).toBe(true);
    // beyond the cap: the first bytes that fit, the full size recorded
    const big = Buffer.alloc(400_000, 0xff);
    const cut = deadValue(big);
    expect(cut.value_base64!.length).toBeLessThanOrEqual(DEAD_VALUE_MAX);
    expect(Buffer.from(cut.value_base64!, "base64").equals(big.subarray(0, (DEAD_VALUE_MAX / 4) * 3))).toBe(true);
    expect(cut).toMatchObject({ value: null, value_bytes: 400_000, value_truncated: true });
  });

  test("a key of any size or bytes is carried like the value: text up to its cap, base64 when not UTF-8", () => {
    expect(deadKey(null)).toEqual({ key: null });
    expect(deadKey(Buffer.from("U_1"))).toEqual({ key: "U_1" });
    const huge = deadKey(Buffer.alloc(900_000, "k"));
    expect(huge).toEqual({ key: "k".repeat(DEAD_KEY_MAX), key_bytes: 900_000, key_truncated: true });
    expect(deadKey(Buffer.from([0xff, 0xfe, 0x00, 0x01]))).toEqual({ key: null, key_base64: "//4AAQ==" });
  });

  test("never cuts a character in two", () => {
    const korean = deadValue(Buffer.from("가".repeat(100_000))); // 3 bytes each
    expect(korean.value).toBe("가".repeat(Math.floor(DEAD_VALUE_MAX / 3)));
    const emoji = deadValue(Buffer.from("😀".repeat(70_000))); // 4 bytes, two UTF-16 units each
    expect(emoji.value).toBe("😀".repeat(DEAD_VALUE_MAX / 4));
    const odd = deadValue(Buffer.from(`a${"😀".repeat(70_000)}`));
    expect(odd.value).toBe(`a${"😀".repeat(DEAD_VALUE_MAX / 4 - 1)}`);
  });
});

test("the storm log counts each reason on a line of its own", () => {
  const lines: string[] = [];
  const storm = new StormLog((l) => lines.push(l), 60_000);
  const dead = (reason: string) => ({ reason }) as DeadLetter;
  noteDeadLetters(storm, [dead("value is not JSON"), dead("duplicate"), dead("value is not JSON"), dead("tombstone")], "orders/0");
  storm.close();
  expect(lines).toEqual([
    "2 record(s) of orders/0 dead-lettered: value is not JSON",
    "1 record(s) of orders/0 dead-lettered: duplicate",
    "1 record(s) of orders/0 dead-lettered: tombstone",
  ]);
});

describe("on real Kafka", () => {
  let t: TestTopics;
  let producer: BatchingProducer;
  const noSink = async () => ({ retry: [], rejected: [] });

  beforeAll(async () => {
    t = await createTestTopics("dead-letter");
    producer = await t.producer();
  });
  afterAll(async () => {
    await t.cleanup();
  });

  test("a record near the broker's 1 MB limit is dead-lettered, and the partition goes on", async () => {
    // 900 kB of control characters: 5.4 MB as JSON, far past what the dead-letter topic accepts
    await producer.send(t.names.topic("users"), { key: "U_huge", value: Buffer.alloc(900_000, 1) });
    await t.consumer({ entity: "users", dlq: producer, sink: noSink });
    await waitForZeroLag(t.admin, t.names, 60_000, ["users"]);
    const [dead, ...more] = (await readTopic(t.client, t.admin, t.names.dlq("users"))).map((m) => JSON.parse(m.value));
    expect(more).toEqual([]);
    expect(dead).toMatchObject({ key: "U_huge", value_bytes: 900_000, value_truncated: true });
    expect(dead.reason).toContain("not JSON");
  });

  test("bad records with a 900 kB key or a key that is not UTF-8 are dead-lettered, and the partition goes on", async () => {
    const before = (await readTopic(t.client, t.admin, t.names.dlq("products"))).length;
    await Promise.all([
      producer.send(t.names.topic("products"), { key: "K".repeat(900_000), value: "{not json, huge key" }),
      producer.send(t.names.topic("products"), { key: Buffer.from([0xff, 0xfe, 0x00, 0x01]), value: "{not json, binary key" }),
      producer.send(t.names.topic("products"), { key: "", value: "{not json, empty key" }),
    ]);
    await t.consumer({ entity: "products", dlq: producer, sink: noSink });
    await waitForZeroLag(t.admin, t.names, 60_000, ["products"]);
    const dead = (await readTopic(t.client, t.admin, t.names.dlq("products"))).map((m) => JSON.parse(m.value) as DeadLetter);
    expect(dead.length - before).toBe(3);
    const of = (value: string) => dead.find((d) => d.value === value);
    expect(of("{not json, huge key")).toMatchObject({ key: "K".repeat(DEAD_KEY_MAX), key_bytes: 900_000, key_truncated: true });
    expect(of("{not json, binary key")).toMatchObject({ key: null, key_base64: "//4AAQ==" });
    expect(of("{not json, empty key")).toMatchObject({ key: "" });
  });

  test("a bad record's headers travel with its dead letter, in order, text or base64", async () => {
    // shopstream writes no headers; a record from elsewhere may carry them (trace ids, binary tags)
    const raw = new Kafka({ brokers: config.kafkaBrokers, logLevel: logLevel.NOTHING }).producer();
    await raw.connect();
    await raw.send({
      topic: t.names.topic("users"),
      messages: [
        {
          key: "U_headers",
          value: "{not json, with headers",
          headers: {
            traceparent: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            tag: Buffer.from([0xff, 0x00]),
            many: ["a", "b"],
          },
        },
      ],
    });
    await raw.disconnect();
    await t.consumer({ entity: "users", dlq: producer, sink: noSink });
    await until("the dead letter", async () =>
      (await readTopic(t.client, t.admin, t.names.dlq("users"))).some((m) => m.value.includes("with headers")),
    );
    const dead = (await readTopic(t.client, t.admin, t.names.dlq("users")))
      .map((m) => JSON.parse(m.value) as DeadLetter)
      .find((d) => d.value === "{not json, with headers");
    expect(dead?.headers).toEqual([
      { key: "traceparent", value: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01" },
      { key: "tag", value: null, value_base64: "/wA=" },
      { key: "many", value: "a" },
      { key: "many", value: "b" },
    ]);
  });

  test("a dead-letter topic deleted under load is recreated: its dead letters arrive, the partition goes on, a stop does not hang", async () => {
    const u = await createTestTopics("dlq-deleted");
    try {
      const dlq = await u.producer();
      const consumer = await u.consumer({ entity: "users", dlq, sink: noSink });
      const sendBad = (from: number, n: number) =>
        Promise.all(
          Array.from({ length: n }, (_, i) => dlq.send(u.names.topic("users"), { key: `U_${from + i}`, value: `{bad ${from + i}` })),
        );
      await sendBad(0, 10);
      await waitForZeroLag(u.admin, u.names, 60_000, ["users"]); // the producer knows the topic now
      await u.admin.deleteTopics([u.names.dlq("users")]);
      for (let i = 0; i < 50 && (await u.admin.listTopics()).includes(u.names.dlq("users")); i++) await Bun.sleep(200);
      await sendBad(10, 10);
      await waitForZeroLag(u.admin, u.names, 90_000, ["users"]);
      const dead = (await readTopic(u.client, u.admin, u.names.dlq("users"))).map((m) => JSON.parse(m.value) as DeadLetter);
      // the recreated topic holds every dead letter sent after the deletion (at least once)
      expect(new Set(dead.map((d) => d.value))).toEqual(new Set(Array.from({ length: 10 }, (_, i) => `{bad ${10 + i}`)));
      const started = Date.now();
      await consumer.stop();
      expect(Date.now() - started).toBeLessThan(15_000);
    } finally {
      await u.cleanup();
    }
  }, 150_000);
});

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { KAFKA_CLIENTS, type KafkaClientName } from "../../src/config.ts";
import { createKafkaClient } from "../../src/kafka/client.ts";
import { partitionFor } from "../../src/kafka/partitioner.ts";
import type { KafkaClient } from "../../src/kafka/port.ts";
import { BatchingProducer } from "../../src/kafka/batching-producer.ts";
import { config, createTestTopics, type TestTopics } from "../support/kafka.ts";
import { readTopic } from "../../src/kafka/read-topic.ts";

// Both clients behind the port, side by side on the real cluster: a key lands on the same partition
// whichever client wrote it, and a consumer group can move from one client to the other between
// runs without losing or re-reading what it committed. This file drives both clients itself, so it
// runs once, in the default client's pass of the suite.

let t: TestTopics;
const clients = {} as Record<KafkaClientName, KafkaClient>;

beforeAll(async () => {
  t = await createTestTopics("clients");
  for (const name of KAFKA_CLIENTS) clients[name] = await createKafkaClient({ ...config, kafkaClient: name }, `test-clients-${name}`);
});
afterAll(async () => {
  await t.cleanup();
});

async function publish(client: KafkaClient, topic: string, messages: { key: string; value: string }[]): Promise<void> {
  const producer = new BatchingProducer(client);
  await producer.connect();
  await Promise.all(messages.map((m) => producer.send(topic, m)));
  expect(await producer.close()).toBe(0);
}

/** Consumes `topic` as `group` with `client` until `expected` new records have come; returns what came. */
async function consumeRun(client: KafkaClient, group: string, topic: string, expected: number) {
  const seen: { partition: number; offset: number; value: string }[] = [];
  let done: () => void = () => {};
  const all = new Promise<void>((r) => (done = r));
  const consumer = await client.consume({
    group,
    topic,
    onFatal: (err) => {
      throw err;
    },
    onBatch: async (batch) => {
      for (const m of batch.messages) seen.push({ partition: batch.partition, offset: Number(m.offset), value: String(m.value) });
      if (seen.length >= expected) done();
      return true;
    },
  });
  await Promise.race([all, Bun.sleep(30_000)]);
  await Bun.sleep(500); // anything more that would come (a re-read) comes now
  await consumer.stop();
  return seen;
}

describe.skipIf(config.kafkaClient !== "kafkajs")("kafkajs and platformatic behind the same port", () => {
  test("a key lands on the same partition whichever client wrote it: Java's murmur2", async () => {
    const topic = t.names.topic("users");
    const keys = Array.from({ length: 300 }, (_, i) => `U_${i.toString(36)}_${crypto.randomUUID()}`);
    for (const name of KAFKA_CLIENTS)
      await publish(
        clients[name],
        topic,
        keys.map((key) => ({ key, value: name })),
      );
    const stored = await readTopic(t.client, t.admin, topic);
    expect(stored).toHaveLength(keys.length * KAFKA_CLIENTS.length);
    const partitions = (await t.admin.partitions(topic)).length;
    const where = new Map<string, Set<number>>();
    for (const m of stored) {
      expect(m.partition).toBe(partitionFor(m.key, partitions, () => -1));
      where.set(m.key!, (where.get(m.key!) ?? new Set()).add(m.partition));
    }
    expect([...where.values()].every((p) => p.size === 1)).toBe(true);
    expect(new Set(stored.map((m) => m.partition)).size).toBe(partitions); // the keys do spread
  });

  test("each client says where every message landed: the partition and offset Kafka gave it", async () => {
    const topic = t.names.topic("products");
    for (const name of KAFKA_CLIENTS) {
      const producer = new BatchingProducer(clients[name]);
      await producer.connect();
      const sent = Array.from({ length: 250 }, (_, i) => ({ key: `P_${i}`, value: `${name} ${i}` }));
      const delivered = await Promise.all(sent.map((m) => producer.send(topic, m)));
      expect(await producer.close()).toBe(0);
      const stored = new Map((await readTopic(t.client, t.admin, topic)).map((m) => [`${m.partition}/${m.offset}`, m.value]));
      expect(delivered.map((d) => stored.get(`${d.partition}/${d.offset}`))).toEqual(sent.map((m) => m.value));
    }
  });

  test("a consumer group moves between the clients without losing or re-reading committed work", async () => {
    const topic = t.names.topic("orders");
    const group = t.names.group("orders");
    const order: KafkaClientName[] = ["kafkajs", "platformatic", "kafkajs", "platformatic"];
    let before = new Map<number, number>(); // partition → end offset before this round's records
    for (const [round, name] of order.entries()) {
      const batch = Array.from({ length: 400 }, (_, i) => ({ key: `U_${round}_${i}`, value: `round ${round} #${i}` }));
      await publish(clients[name === "kafkajs" ? "platformatic" : "kafkajs"], topic, batch); // written by the other one
      const seen = await consumeRun(clients[name], group, topic, batch.length);
      // exactly this round's records: none of an earlier round read again, none of this one missing
      expect(seen.map((m) => m.value).sort()).toEqual(batch.map((m) => m.value).sort());
      for (const m of seen) expect(m.offset).toBeGreaterThanOrEqual(before.get(m.partition) ?? 0);
      const committed = await t.admin.committed(group, topic);
      const ends = new Map((await t.admin.offsets(topic)).map((p) => [p.partition, p.high]));
      expect(committed).toEqual(ends);
      before = ends;
    }
  }, 120_000);
});

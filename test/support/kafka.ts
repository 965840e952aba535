import type { Admin, Kafka } from "kafkajs";
import { loadConfig } from "../../src/config.ts";
import { connectAdmin, createKafka, ensureTopics } from "../../src/kafka/client.ts";
import { topicNames, type EntityTopic, type TopicNames } from "../../src/kafka/topics.ts";
import { consumerLag } from "../../src/kafka/lag.ts";
import { uniqueSuffix } from "./db.ts";

export const config = loadConfig();

export interface TestTopics {
  prefix: string;
  names: TopicNames;
  kafka: Kafka;
  admin: Admin;
  cleanup(): Promise<void>;
}

/**
 * The project's topics under a unique prefix, created on the real cluster (or on `brokers`, a
 * private one); cleanup() deletes them.
 */
export async function createTestTopics(label: string, brokers = config.kafkaBrokers): Promise<TestTopics> {
  const prefix = `test.${label}.${uniqueSuffix()}.`;
  const names = topicNames(prefix);
  const kafka = createKafka({ ...config, kafkaBrokers: brokers }, `test-${label}`);
  const admin = await connectAdmin(kafka, brokers);
  await ensureTopics(admin, names);
  return {
    prefix,
    names,
    kafka,
    admin,
    async cleanup() {
      const mine = (await admin.listTopics()).filter((t) => t.startsWith(prefix));
      if (mine.length) await admin.deleteTopics({ topics: mine }).catch(() => {});
      const groups = (await admin.listGroups()).groups.map((g) => g.groupId).filter((g) => g.startsWith(prefix));
      if (groups.length) await admin.deleteGroups(groups).catch(() => {});
      await admin.disconnect();
    },
  };
}

/** Every message now in a topic, read with a throwaway group from the beginning to the end offsets. */
export async function readTopic(
  kafka: Kafka,
  admin: Admin,
  topic: string,
): Promise<{ key: string | null; value: string; partition: number; offset: string }[]> {
  const ends = await admin.fetchTopicOffsets(topic);
  const remaining = new Map(ends.filter((p) => Number(p.high) > Number(p.low)).map((p) => [p.partition, Number(p.high)]));
  const out: { key: string | null; value: string; partition: number; offset: string }[] = [];
  if (remaining.size === 0) return out;
  const consumer = kafka.consumer({ groupId: `${topic}.reader.${uniqueSuffix()}`, maxWaitTimeInMs: 200 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`reading ${topic} timed out`)), 60_000);
    void consumer.run({
      eachBatch: async ({ batch }) => {
        for (const m of batch.messages) {
          out.push({ key: m.key?.toString() ?? null, value: m.value?.toString() ?? "", partition: batch.partition, offset: m.offset });
        }
        const end = remaining.get(batch.partition);
        if (end !== undefined && Number(batch.lastOffset()) + 1 >= end) remaining.delete(batch.partition);
        if (remaining.size === 0) {
          clearTimeout(timer);
          resolve();
        }
      },
    });
  });
  await consumer.disconnect();
  return out;
}

/** Waits until every group of the prefix (or those of `only`) has committed up to the end of its topic. */
export async function waitForZeroLag(admin: Admin, names: TopicNames, timeoutMs = 60_000, only?: EntityTopic[]): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const lag = (await consumerLag(admin, names)).filter((l) => !only || only.some((e) => l.topic === names.topic(e)));
    const total = lag.reduce((s, l) => s + l.lag, 0);
    if (total === 0) return;
    if (Date.now() > deadline)
      throw new Error(`consumer lag still ${total} after ${timeoutMs} ms: ${JSON.stringify(lag.filter((l) => l.lag))}`);
    await Bun.sleep(250);
  }
}

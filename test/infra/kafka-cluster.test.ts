// Proves the running local cluster (deploy/local/infra.sh up) is the topology of docs/design.md, "Kafka contract":
// three brokers, RF 3 with min ISR 2, acks=all idempotent writes that read back intact.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Kafka, logLevel, type Admin } from "kafkajs";

const brokers = (process.env.KAFKA_BROKERS ?? "127.0.0.1:19092,127.0.0.1:19093,127.0.0.1:19094")
  .split(",")
  .map((b) => b.trim())
  .filter(Boolean);

const topic = `infra-test-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
const kafka = new Kafka({ clientId: "infra-test", brokers, logLevel: logLevel.NOTHING });
let admin: Admin;

// Each broker learns about a new topic from the KRaft metadata log on its own schedule, so a
// metadata request right after createTopics can still hit one that answers UNKNOWN_TOPIC.
async function eventually<T>(what: string, attempt: () => Promise<T>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await attempt();
    } catch (err) {
      if (Date.now() > deadline) throw new Error(`${what}: still failing after ${timeoutMs} ms: ${err}`);
      await Bun.sleep(200);
    }
  }
}

beforeAll(async () => {
  admin = kafka.admin();
  await admin.connect();
}, 30_000);

afterAll(async () => {
  try {
    await admin.deleteTopics({ topics: [topic], timeout: 10_000 });
  } catch {
    // the topic may never have been created if an earlier step failed
  }
  await admin.disconnect();
}, 30_000);

describe("local Kafka cluster", () => {
  test("three brokers and a controller among them", async () => {
    const cluster = await admin.describeCluster();
    expect(cluster.brokers.map((b) => b.nodeId).sort()).toEqual([1, 2, 3]);
    // KRaft reports an (arbitrary) live broker as "controller" to old-style clients
    expect(cluster.brokers.map((b) => b.nodeId)).toContain(cluster.controller!);
    expect(cluster.clusterId).toBeTruthy();
  }, 30_000);

  test("a topic with RF 3 has three in-sync replicas per partition", async () => {
    // kafkajs 2.2.4's waitForLeaders only retries LEADER_NOT_AVAILABLE; against KRaft the broker it
    // asks may not know the topic yet (UNKNOWN_TOPIC_OR_PARTITION) and it gives up. Poll instead.
    const created = await admin.createTopics({
      waitForLeaders: false,
      topics: [
        {
          topic,
          numPartitions: 3,
          replicationFactor: 3,
          configEntries: [{ name: "min.insync.replicas", value: "2" }],
        },
      ],
    });
    expect(created).toBe(true);

    const partitions = await eventually("3 partitions with 3 ISR", async () => {
      const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
      const found = topics[0]!.partitions;
      if (found.length !== 3 || found.some((p) => p.isr.length !== 3)) throw new Error(JSON.stringify(found));
      return found;
    });
    for (const p of partitions) {
      expect([...p.replicas].sort()).toEqual([1, 2, 3]);
      expect([...p.isr].sort()).toEqual([1, 2, 3]);
      expect(p.leader).toBeGreaterThan(0);
    }

    const configs = await eventually("describeConfigs", () =>
      admin.describeConfigs({
        includeSynonyms: false,
        resources: [{ type: 2 /* ConfigResourceTypes.TOPIC */, name: topic, configNames: ["min.insync.replicas"] }],
      }),
    );
    const minIsr = configs.resources[0]!.configEntries.find((e) => e.configName === "min.insync.replicas");
    expect(minIsr?.configValue).toBe("2");
  }, 60_000);

  test("100 messages written with acks=all (idempotent) read back intact", async () => {
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
    await producer.connect();
    const sent = Array.from({ length: 100 }, (_, i) => ({ key: `k${i % 10}`, value: JSON.stringify({ i }) }));
    try {
      const results = await producer.send({ topic, acks: -1, messages: sent });
      expect(results.every((r) => r.errorCode === 0)).toBe(true);
    } finally {
      await producer.disconnect();
    }

    const consumer = kafka.consumer({ groupId: `${topic}-group`, allowAutoTopicCreation: false });
    await consumer.connect();
    // a rebalance on a busy machine may deliver some messages again (at least once): each is kept
    // at its first delivery, and the wait is for 100 distinct ones
    const received: { key: string; value: string }[] = [];
    const seen = new Set<string>();
    try {
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`only ${received.length}/100 messages after 60 s`)), 60_000);
        consumer
          .run({
            eachMessage: async ({ message }) => {
              const m = { key: message.key!.toString(), value: message.value!.toString() };
              if (seen.has(m.value)) return;
              seen.add(m.value);
              received.push(m);
              if (received.length >= sent.length) {
                clearTimeout(timer);
                resolve();
              }
            },
          })
          .catch(reject);
      });
    } finally {
      await consumer.disconnect();
    }

    expect(received).toHaveLength(100);
    const byValue = (a: { value: string }, b: { value: string }) => (JSON.parse(a.value).i as number) - (JSON.parse(b.value).i as number);
    expect([...received].sort(byValue)).toEqual([...sent].sort(byValue));
    // one key's messages share a partition, so they come back in the order they were sent
    const k3 = received.filter((m) => m.key === "k3").map((m) => JSON.parse(m.value).i as number);
    expect(k3).toEqual([3, 13, 23, 33, 43, 53, 63, 73, 83, 93]);

    await admin.deleteGroups([`${topic}-group`]).catch(() => {});
  }, 90_000);
});

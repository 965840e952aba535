import { RegistryClient } from "../../src/schemas/registry.ts";
import { loadConfig } from "../../src/config.ts";
import { connectAdmin, createKafkaClient, ensureTopics } from "../../src/kafka/client.ts";
import { type EntityConsumerOptions, startEntityConsumer } from "../../src/pipeline/batch-consumer.ts";
import { consumerLag } from "../../src/kafka/lag.ts";
import type { KafkaAdmin, KafkaClient, RunningConsumer } from "../../src/kafka/port.ts";
import { BatchingProducer, type BatchingProducerOptions } from "../../src/kafka/batching-producer.ts";
import { type Logger, logger } from "../../src/log.ts";
import { ENTITY_TOPICS, topicNames, type EntityTopic, type TopicNames } from "../../src/kafka/topics.ts";
import type { Sql } from "../../src/db/client.ts";
import { uniqueSuffix } from "../../support/db.ts";
import { encode } from "../../src/kafka/envelope.ts";
import { order } from "./fixtures.ts";

// The Kafka side of the suites, through the same port as the services: KAFKA_CLIENT picks the
// client (the CI runs every Kafka suite once per client).
export const config = loadConfig();

export interface TestTopics {
  prefix: string;
  names: TopicNames;
  client: KafkaClient;
  admin: KafkaAdmin;
  /** A connected batching producer on these topics; cleanup() closes it. */
  producer(opts?: BatchingProducerOptions): Promise<BatchingProducer>;
  /** An entity consumer on these topics (quiet unless DEBUG is set); cleanup() stops it. */
  consumer<E extends EntityTopic>(opts: Omit<EntityConsumerOptions<E>, "client" | "names" | "log">): Promise<RunningConsumer>;
  /** Stops the consumers, closes the producers, deletes the topics, the groups that read them and their registry subjects. */
  cleanup(): Promise<void>;
}

/** A logger for the code under test: silent, or the real one with DEBUG set. */
export function testLogger(name: string): Logger {
  return process.env.DEBUG ? logger(name) : { info() {}, warn() {}, error() {} };
}

/**
 * The project's topics under a unique prefix, created on the real cluster (or on `brokers`, a
 * private one) with KAFKA_PARTITIONS partitions unless told otherwise; cleanup() deletes them and
 * the groups that read them.
 */
export async function createTestTopics(
  label: string,
  brokers = config.kafkaBrokers,
  partitions = config.kafkaPartitions,
): Promise<TestTopics> {
  const prefix = `test.${label}.${uniqueSuffix()}.`;
  const names = topicNames(prefix);
  const client = await createKafkaClient({ ...config, kafkaBrokers: brokers }, `test-${label}`);
  const admin = await connectAdmin(client);
  await ensureTopics(admin, names, { partitions });
  const producers: BatchingProducer[] = [];
  const consumers: RunningConsumer[] = [];
  return {
    prefix,
    names,
    client,
    admin,
    async producer(opts = {}) {
      const timing = { metadataRefreshMs: config.kafkaMetadataRefreshS * 1000, missingTopicMs: config.kafkaMissingTopicS * 1000 };
      const producer = new BatchingProducer(client, { log: testLogger("producer"), ...timing, ...opts });
      await producer.connect();
      producers.push(producer);
      return producer;
    },
    async consumer(opts) {
      const consumer = await startEntityConsumer({ ...opts, client, names, log: testLogger(opts.entity) });
      consumers.push(consumer);
      return consumer;
    },
    async cleanup() {
      await Promise.all(consumers.map((c) => c.stop()));
      await Promise.all(producers.map((p) => p.close()));
      const mine = (await admin.listTopics()).filter((t) => t.startsWith(prefix));
      await admin.deleteTopics(mine).catch(() => undefined);
      const groups = (await admin.listGroups()).filter((g) => g.startsWith(prefix));
      await admin.deleteGroups(groups).catch(() => undefined);
      await admin.close();
      // the schemas a registry format registered for these topics (none answers when no suite needed one)
      await new RegistryClient(config.schemaRegistryUrl).deleteSubjects(prefix).catch(() => undefined);
    },
  };
}

/**
 * Waits until the consumers have settled everything read: every group of the prefix (or those of
 * `only`) at the end of its topic, and no record of theirs left waiting in the parking lot.
 */
export async function waitForSettled(
  t: Pick<TestTopics, "admin" | "names">,
  sql: Sql,
  only?: EntityTopic[],
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  await waitForZeroLag(t.admin, t.names, timeoutMs, only);
  const topics = (only ?? ENTITY_TOPICS).map((e) => t.names.topic(e));
  for (;;) {
    const [row] = await sql<{ n: number }[]>`select count(*)::int as n from parked_records where topic = any(${sql.array(topics)})`;
    if (row?.n === 0) return;
    if (Date.now() > deadline) throw new Error(`${row?.n} record(s) still parked after ${timeoutMs} ms`);
    await Bun.sleep(250);
  }
}

/** Waits until every group of the prefix (or those of `only`) has committed up to the end of its topic. */
export async function waitForZeroLag(admin: KafkaAdmin, names: TopicNames, timeoutMs = 60_000, only?: EntityTopic[]): Promise<void> {
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

/**
 * Orders `${prefix}${from}` up to `${prefix}${to - 1}` of product `productId`, order n bought by
 * `buyer(n)`, published on the orders topic keyed by the buyer; resolves once Kafka acknowledged them.
 */
export async function publishOrders(
  t: Pick<TestTopics, "names">,
  producer: BatchingProducer,
  range: { prefix: string; from: number; to: number },
  buyer: (n: number) => string,
  productId: string,
): Promise<void> {
  const sends = [];
  for (let n = range.from; n < range.to; n++) {
    const o = order(`${range.prefix}${n}`, buyer(n), productId);
    sends.push(producer.send(t.names.topic("orders"), { key: o.user_id, value: encode("orders", o) }));
  }
  await Promise.all(sends);
}

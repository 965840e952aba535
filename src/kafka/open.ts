import type { Config } from "../config.ts";
import type { Logger } from "../log.ts";
import { connectAdmin, createKafkaClient, ensureTopics } from "./client.ts";
import type { KafkaClient } from "./port.ts";
import { BatchingProducer, type BatchingProducerOptions } from "./batching-producer.ts";
import { topicNames, type TopicNames } from "./topics.ts";

export interface OpenKafka {
  client: KafkaClient;
  names: TopicNames;
  /** Connected, acks=all, idempotent; close() flushes it. */
  producer: BatchingProducer;
}

/**
 * Kafka ready for a service: the configured client, the project's topics present (created with
 * KAFKA_PARTITIONS partitions when missing), a connected batching producer.
 */
export async function openKafka(
  config: Config,
  clientName: string,
  opts: BatchingProducerOptions & { log?: Logger } = {},
): Promise<OpenKafka> {
  const client = await createKafkaClient(config, clientName, opts.log);
  const names = topicNames(config.topicPrefix);
  const admin = await connectAdmin(client);
  try {
    await ensureTopics(admin, names, { partitions: config.kafkaPartitions });
  } finally {
    await admin.close();
  }
  const configured: BatchingProducerOptions = {
    ...config.kafkaProducer,
    metadataRefreshMs: config.kafkaMetadataRefreshS * 1000,
    missingTopicMs: config.kafkaMissingTopicS * 1000,
  };
  const producer = new BatchingProducer(client, { ...configured, ...opts });
  await producer.connect();
  return { client, names, producer };
}

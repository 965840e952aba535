import type { Kafka } from "kafkajs";
import type { Config } from "../config.ts";
import { compressionOf, connectAdmin, createKafka, ensureTopics } from "./client.ts";
import { BatchingProducer, type BatchingProducerOptions } from "./producer.ts";
import { topicNames, type TopicNames } from "./topics.ts";

export interface OpenKafka {
  kafka: Kafka;
  names: TopicNames;
  /** Connected, acks=all, idempotent; close() flushes it. */
  producer: BatchingProducer;
}

/** Kafka ready for a service: the project's topics present, a connected batching producer. */
export async function openKafka(
  config: Config,
  clientName: string,
  opts: Omit<BatchingProducerOptions, "compression"> = {},
): Promise<OpenKafka> {
  const kafka = createKafka(config, clientName);
  const names = topicNames(config.topicPrefix);
  const admin = await connectAdmin(kafka, config.kafkaBrokers);
  try {
    await ensureTopics(admin, names);
  } finally {
    await admin.disconnect();
  }
  const producer = new BatchingProducer(kafka, { ...opts, compression: compressionOf(config.kafkaCompression) });
  await producer.connect();
  return { kafka, names, producer };
}

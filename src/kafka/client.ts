import { CompressionTypes, Kafka, logLevel, type Admin } from "kafkajs";
import type { Config } from "../config.ts";
import { topicSpecs, type TopicNames } from "./topics.ts";

// The single seam to kafkajs: everything else in shopstream imports from src/kafka, never kafkajs.

export function createKafka(config: Pick<Config, "kafkaBrokers" | "kafkaClientId">, clientSuffix = ""): Kafka {
  return new Kafka({
    clientId: clientSuffix ? `${config.kafkaClientId}-${clientSuffix}` : config.kafkaClientId,
    brokers: config.kafkaBrokers,
    logLevel: logLevel.ERROR,
    connectionTimeout: 5000,
    retry: { initialRetryTime: 200, retries: 8 },
  });
}

export function compressionOf(name: Config["kafkaCompression"]): CompressionTypes {
  return name === "gzip" ? CompressionTypes.GZIP : CompressionTypes.None;
}

/** Connects an admin client, turning "no broker answers" into one line naming KAFKA_BROKERS. */
export async function connectAdmin(kafka: Kafka, brokers: string[]): Promise<Admin> {
  const admin = kafka.admin();
  try {
    await admin.connect();
  } catch (err) {
    throw new Error(`KAFKA_BROKERS: cannot reach Kafka at ${brokers.join(",")} (${err instanceof Error ? err.message : err})`);
  }
  return admin;
}

/** Creates the project's topics when missing (auto-create is off on the cluster). Returns those created. */
export async function ensureTopics(admin: Admin, names: TopicNames, opts: { partitions?: number; replication?: number } = {}): Promise<string[]> {
  const existing = new Set(await admin.listTopics());
  const missing = topicSpecs(names, opts).filter((t) => !existing.has(t.topic));
  if (missing.length === 0) return [];
  try {
    await admin.createTopics({ topics: missing, waitForLeaders: false });
  } catch (err) {
    // another service may have created them a moment earlier
    if ((err as { type?: string }).type !== "TOPIC_ALREADY_EXISTS") throw err;
  }
  // kafkajs' waitForLeaders only retries LEADER_NOT_AVAILABLE, while a broker that has not yet
  // heard of the topic answers UNKNOWN_TOPIC_OR_PARTITION: poll the metadata ourselves
  const topics = missing.map((t) => t.topic);
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      const meta = await admin.fetchTopicMetadata({ topics });
      if (meta.topics.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0))) return topics;
    } catch (err) {
      if (Date.now() > deadline) throw err;
    }
    if (Date.now() > deadline) throw new Error(`topics ${topics.join(", ")} have no leaders after 30 s`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

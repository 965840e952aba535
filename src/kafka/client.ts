import type { Config } from "../config.ts";
import { describe, ShopstreamError } from "../errors.ts";
import { type Logger, logger } from "../log.ts";
import { sleep } from "../retry.ts";
import type { KafkaAdmin, KafkaClient } from "./port.ts";
import { type TopicNames, topicSpecs } from "./topics.ts";

// The one way in to Kafka: the client named by KAFKA_CLIENT behind the port (src/kafka/port.ts).
// Everything else in shopstream imports from src/kafka, never from a client library.

export type KafkaSettings = Pick<Config, "kafkaBrokers" | "kafkaClientId" | "kafkaCompression" | "kafkaClient" | "kafkaMetadataRefreshS">;

/** The configured client; `name` tells its connections apart on the brokers (e.g. the service). */
export async function createKafkaClient(config: KafkaSettings, name = "", log: Logger = logger("kafka")): Promise<KafkaClient> {
  const opts = {
    brokers: config.kafkaBrokers,
    clientId: name ? `${config.kafkaClientId}-${name}` : config.kafkaClientId,
    compression: config.kafkaCompression,
    metadataRefreshMs: config.kafkaMetadataRefreshS * 1000,
    log,
  };
  // loaded on demand: a process holds one client library, not both
  if (config.kafkaClient === "platformatic") return (await import("./adapters/platformatic.ts")).platformaticClient(opts);
  return (await import("./adapters/kafkajs.ts")).kafkajsClient(opts);
}

/** A connected admin client; "no broker answers" becomes one line naming KAFKA_BROKERS. */
export async function connectAdmin(client: KafkaClient): Promise<KafkaAdmin> {
  try {
    return await client.admin();
  } catch (err) {
    throw new ShopstreamError(`KAFKA_BROKERS: cannot reach Kafka at ${client.brokers.join(",")} (${describe(err)})`, {
      cause: err,
      retriable: true,
    });
  }
}

/**
 * Creates the project's topics when missing (auto-create is off on the cluster) and waits until
 * every one of them has a leader per partition. Safe when several services start at once.
 * Returns the topics this call created.
 */
export async function ensureTopics(
  admin: KafkaAdmin,
  names: TopicNames,
  opts: { partitions?: number; replication?: number } = {},
): Promise<string[]> {
  const specs = topicSpecs(names, opts);
  const existing = new Set(await admin.listTopics());
  const missing = specs.filter((t) => !existing.has(t.topic));
  if (missing.length > 0) await admin.createTopics(missing);
  await waitForLeaders(
    admin,
    specs.map((t) => t.topic),
  );
  return missing.map((t) => t.topic);
}

// A broker that has not yet heard of a new topic answers UNKNOWN_TOPIC_OR_PARTITION, and a new
// partition has no leader for a moment: poll the metadata until every partition has one.
async function waitForLeaders(admin: KafkaAdmin, topics: string[]): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (const topic of topics) {
    for (;;) {
      let error: unknown = null;
      try {
        const partitions = await admin.partitions(topic);
        if (partitions.length > 0 && partitions.every((p) => p.leader >= 0)) break;
      } catch (err) {
        error = err;
      }
      if (Date.now() > deadline)
        throw new ShopstreamError(`topic ${topic} has no leader for every partition after 30 s${error ? ` (${describe(error)})` : ""}`, {
          cause: error,
          retriable: true,
        });
      await sleep(200);
    }
  }
}

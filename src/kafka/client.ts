import { CompressionTypes, Kafka, logLevel, type Admin, type logCreator } from "kafkajs";
import type { Config } from "../config.ts";
import { StormLog } from "../log.ts";
import { topicSpecs, type TopicNames } from "./topics.ts";

// The single seam to kafkajs: everything else in shopstream imports from src/kafka, never kafkajs.

// kafkajs 2.2.4's request queue arms setTimeout with a negative delay when it is not throttled;
// the runtime clamps it to 1 ms and prints a TimeoutNegativeWarning per client. Harmless and
// unfixed upstream, so that one warning is dropped; every other warning is still printed.
process.removeAllListeners("warning");
process.on("warning", (w) => {
  if (w.name !== "TimeoutNegativeWarning") console.error(`${w.name}: ${w.message}`);
});

export function createKafka(config: Pick<Config, "kafkaBrokers" | "kafkaClientId">, clientSuffix = ""): Kafka {
  return new Kafka({
    clientId: clientSuffix ? `${config.kafkaClientId}-${clientSuffix}` : config.kafkaClientId,
    brokers: config.kafkaBrokers,
    logLevel: logLevel.WARN,
    logCreator: oneLineLogs,
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

/**
 * Creates the project's topics when missing (auto-create is off on the cluster) and waits until
 * every one of them has a leader per partition. Safe when several services start at once.
 * Returns the topics this call created.
 */
export async function ensureTopics(
  admin: Admin,
  names: TopicNames,
  opts: { partitions?: number; replication?: number } = {},
): Promise<string[]> {
  const specs = topicSpecs(names, opts);
  const existing = new Set(await admin.listTopics());
  const missing = specs.filter((t) => !existing.has(t.topic));
  let created: string[] = [];
  if (missing.length > 0) {
    try {
      await admin.createTopics({ topics: missing, waitForLeaders: false });
      created = missing.map((t) => t.topic);
    } catch (err) {
      // a concurrent starter may have won the race; anything still missing afterwards is real
      const now = new Set(await admin.listTopics());
      if (missing.some((t) => !now.has(t.topic))) throw err;
    }
  }
  await waitForLeaders(
    admin,
    specs.map((t) => t.topic),
  );
  return created;
}

// kafkajs' waitForLeaders only retries LEADER_NOT_AVAILABLE, while a broker that has not yet heard
// of a new topic answers UNKNOWN_TOPIC_OR_PARTITION: poll the metadata ourselves.
async function waitForLeaders(admin: Admin, topics: string[]): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      const meta = await admin.fetchTopicMetadata({ topics });
      if (meta.topics.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0))) return;
    } catch (err) {
      if (Date.now() > deadline) throw err;
    }
    if (Date.now() > deadline) throw new Error(`topics ${topics.join(", ")} have no leaders after 30 s`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

// kafkajs logs retried protocol errors (a broker not yet hosting a new partition, a rebalance in
// progress) at ERROR as JSON; they are expected and retried. Its warning about bounded retries on
// the idempotent producer is dropped too: the batching producer resends what a send gave up on,
// and a resend is harmless because every consumer writes idempotently by id. Everything else is
// kept, in the same one-line shape as our own logs, and summarised per kind: a dead broker makes
// kafkajs log every reconnect attempt of every client.
const EXPECTED = [/^(\[Connection\] )?Response /, /^Limiting retries for the idempotent producer/];
const storm = new StormLog((line) => console.error(`${new Date().toISOString()} ${line}`));
const oneLineLogs: logCreator =
  () =>
  ({ level, log }) => {
    if (EXPECTED.some((re) => re.test(log.message ?? ""))) return;
    const name = level >= logLevel.INFO ? "INFO " : level === logLevel.WARN ? "WARN " : "ERROR";
    const detail = log.error && !String(log.message).includes(String(log.error)) ? `: ${log.error}` : "";
    storm.note(`[kafkajs] ${log.message}${detail}`, name);
  };

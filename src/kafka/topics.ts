// Topic layout (docs/design.md, "Kafka contract"). Names carry an optional prefix so test suites and parallel pipelines on one
// cluster never share topics or consumer groups.

export type EntityTopic = "users" | "products" | "orders" | "clicks";
/** The clicks topic carries page events (keyed by session) only when the producer runs with --clicks; it exists always. */
export const ENTITY_TOPICS: readonly EntityTopic[] = ["users", "products", "orders", "clicks"];

const DAY_MS = 24 * 60 * 60 * 1000;

export interface TopicSpec {
  topic: string;
  numPartitions: number;
  replicationFactor: number;
  configEntries: { name: string; value: string }[];
}

export interface TopicNames {
  topic(entity: EntityTopic): string;
  /** One dead-letter topic per source topic, so a poison order never hides among user failures. */
  dlq(entity: EntityTopic): string;
  group(entity: EntityTopic): string;
  /** The answer key of injected chaos (docs/design.md, "Chaos"): what was injected where. */
  chaosKey(): string;
}

export function topicNames(prefix = ""): TopicNames {
  return {
    topic: (e) => `${prefix}${e}`,
    dlq: (e) => `${prefix}${e}.dlq`,
    group: (e) => `${prefix}${e}_group`,
    chaosKey: () => `${prefix}chaos.key`,
  };
}

/**
 * Every topic of the pipeline with its settings. `partitions` (KAFKA_PARTITIONS) applies to the
 * dead-letter topics too; it only shapes topics not yet created (docs/design.md, "Kafka contract").
 */
export function topicSpecs(names: TopicNames, opts: { partitions?: number; replication?: number } = {}): TopicSpec[] {
  const numPartitions = opts.partitions ?? 3;
  const replicationFactor = opts.replication ?? 3;
  const minIsr = String(Math.min(2, replicationFactor));
  const spec = (topic: string, retentionDays: number): TopicSpec => ({
    topic,
    numPartitions,
    replicationFactor,
    configEntries: [
      { name: "min.insync.replicas", value: minIsr },
      { name: "retention.ms", value: String(retentionDays * DAY_MS) },
    ],
  });
  return [
    spec(names.topic("users"), 7),
    spec(names.topic("products"), 7),
    spec(names.topic("orders"), 30),
    spec(names.topic("clicks"), 7),
    ...ENTITY_TOPICS.map((e) => spec(names.dlq(e), 30)),
    spec(names.chaosKey(), 30),
  ];
}

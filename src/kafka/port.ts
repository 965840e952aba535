import type { KafkaClientName } from "../config.ts";
import type { Logger } from "../log.ts";
import type { TopicSpec } from "./topics.ts";

// What shopstream needs from a Kafka client, and nothing more (docs/design.md, "Kafka client").
// Two adapters implement it: kafkajs (the default) and @platformatic/kafka (KAFKA_CLIENT). The
// batching producer, the batch consumer, topic creation and lag are written once against this
// port; each client's quirks (kafkajs' NOT_COORDINATOR on a new cluster, platformatic's bigint
// offsets and LATEST default, …) stay inside its adapter.

export type { KafkaClientName };

export interface OutgoingMessage {
  /** A string, or raw bytes (a dead letter may carry a key that is not UTF-8). */
  key: string | Buffer | null;
  /** null: a record without a value (a tombstone). */
  value: string | Buffer | null;
}

export interface IncomingMessage {
  key: Buffer | null;
  value: Buffer | null;
  /** The record's offset, as a decimal string (Kafka offsets are 64-bit). */
  offset: string;
  /** The record's headers in order, when it has any (shopstream writes none; a dead letter carries them). */
  headers?: RecordHeader[];
}

export type RecordHeader = readonly [key: string, value: Buffer | null];

export interface PartitionInfo {
  partition: number;
  /** Broker id of the leader; -1 while there is none. */
  leader: number;
}

export interface OffsetRange {
  partition: number;
  /** First offset still in the log. */
  low: number;
  /** Offset the next record will get (the high watermark). */
  high: number;
}

export interface KafkaAdmin {
  listTopics(): Promise<string[]>;
  /** Creates the topics; a topic that exists already (another starter won the race) is not an error. */
  createTopics(specs: readonly TopicSpec[]): Promise<void>;
  /** The topic's partitions and their leaders; empty while the cluster does not know the topic. */
  partitions(topic: string): Promise<PartitionInfo[]>;
  offsets(topic: string): Promise<OffsetRange[]>;
  /** The group's committed offset per partition (the next offset it will read); absent: never committed. */
  committed(group: string, topic: string): Promise<Map<number, number>>;
  listGroups(): Promise<string[]>;
  /** The group's state (e.g. "Stable") and how many members it has. */
  describeGroup(group: string): Promise<{ state: string; members: number }>;
  /** Grows the topic to `count` partitions (Kafka never shrinks one). */
  createPartitions(topic: string, count: number): Promise<void>;
  deleteTopics(topics: readonly string[]): Promise<void>;
  deleteGroups(groups: readonly string[]): Promise<void>;
  close(): Promise<void>;
}

/**
 * One idempotent producer (acks=all, at most one request in flight): a lane of the batching
 * producer. Its sequence numbers are only ever right for batches sent one after the other, so a
 * failed send is answered by closing it and opening a new one (a fresh producer id). A send to a
 * partition its metadata does not hold fails (PartitionUnknown, src/kafka/send-errors.ts).
 */
export interface PartitionWriter {
  /**
   * Sends one batch to one partition; resolves once every in-sync replica has it, to the offset
   * of its first record (the others follow it one by one), or null when the client does not say.
   */
  send(topic: string, partition: number, messages: readonly OutgoingMessage[]): Promise<number | null>;
  close(): Promise<void>;
}

export interface Batch {
  topic: string;
  partition: number;
  /** In offset order, never empty. */
  messages: IncomingMessage[];
}

export interface BatchControl {
  /** False once the consumer is stopping or the partition went to another member: the batch is then its next owner's. */
  owned(): boolean;
  /** Keeps the membership alive through a long write (clients that heartbeat by themselves do nothing). */
  heartbeat(): Promise<void>;
}

export interface ConsumerSpec {
  group: string;
  topic: string;
  /**
   * One partition's batch at a time. Resolves true to commit the offsets past the batch (after its
   * database commit), false to leave them: the batch is then read again by whoever owns the
   * partition next. Starts from the group's committed offsets, from the earliest when it has none.
   */
  onBatch(batch: Batch, control: BatchControl): Promise<boolean>;
  /** The client gave up on this consumer for good: nothing more will be read. */
  onFatal(err: Error): void;
}

export interface RunningConsumer {
  /** Waits for the batch in hand (and its commit), then leaves the group. */
  stop(): Promise<void>;
}

export interface KafkaClient {
  readonly name: KafkaClientName;
  readonly brokers: readonly string[];
  /** A connected admin client; fails naming KAFKA_BROKERS when no broker answers. */
  admin(): Promise<KafkaAdmin>;
  writer(): Promise<PartitionWriter>;
  consume(spec: ConsumerSpec): Promise<RunningConsumer>;
  /**
   * Kafka's names for the errors behind a failed call (e.g. NOT_LEADER_OR_FOLLOWER), found in the
   * client's wrappers; a topic the client finds missing is UNKNOWN_TOPIC_OR_PARTITION. The producer
   * tells permanent from transient failures by them (src/kafka/send-errors.ts).
   */
  errorNames(err: unknown): string[];
}

export interface KafkaClientOptions {
  brokers: readonly string[];
  clientId: string;
  compression: "none" | "gzip";
  /** How old a consumer's view of its topic's partitions may grow before it looks again (KAFKA_METADATA_REFRESH_S). */
  metadataRefreshMs: number;
  /** Where the client's own warnings and errors go (summarised: a dead broker makes every client retry). */
  log: Logger;
}

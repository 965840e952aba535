import { Admin, compatibilityPartitioner, Producer, ProduceAcks } from "@platformatic/kafka";
import { bestEffort, describe } from "../../errors.ts";
import { KAFKA_DEFAULTS } from "../../kafka-defaults.ts";
import { StormLog, withFields } from "../../log.ts";
import type { KafkaAdmin, KafkaClient, KafkaClientOptions, OffsetRange, PartitionWriter } from "../port.ts";
import { PartitionUnknown, pastMetadataSettling } from "../send-errors.ts";
import { consumeBatches } from "./platformatic-consumer.ts";
import { errorNames, hasError } from "./platformatic-errors.ts";
import type { ConnectionBase } from "./platformatic-stream.ts";

// The @platformatic/kafka 2.12 adapter (KAFKA_CLIENT=platformatic): pure TypeScript, about half of
// kafkajs' CPU per record. What differs from kafkajs stays here: offsets are bigint, a stream
// starts at LATEST and commits at fetch time unless told otherwise, there is no eachBatch (batches
// are gathered from the message stream), a fetch failure ends the stream, and messages of a
// partition already fetched are still delivered after it moved to another member, and a fetch can
// stall one partition without an error.

const EARLIEST = -2n;
const LATEST = -1n;

const P = KAFKA_DEFAULTS.producer;

/** Summarises a client's errors (a dead broker makes every client report every reconnect). */
type WarnOn = (client: { on(event: "error", listener: (err: Error) => void): unknown }, what: string) => void;

export function platformaticClient(opts: KafkaClientOptions): KafkaClient {
  const log = withFields(opts.log, { client: "platformatic" });
  const storm = new StormLog((line) => log.warn(line));
  const base = { clientId: opts.clientId, bootstrapBrokers: [...opts.brokers], connectTimeout: KAFKA_DEFAULTS.connectTimeoutMs };
  const warnOn: WarnOn = (client, what) => client.on("error", (err) => storm.note(describe(err), `${what}:`));

  return {
    name: "platformatic",
    brokers: opts.brokers,

    admin: () => platformaticAdmin(base, warnOn),
    writer: () => platformaticWriter(base, opts.compression, warnOn),
    consume: (spec) => consumeBatches(base, spec, storm, opts.metadataRefreshMs),

    errorNames,
  };
}

async function platformaticAdmin(base: ConnectionBase, warnOn: WarnOn): Promise<KafkaAdmin> {
  const admin = new Admin({
    ...base,
    retries: KAFKA_DEFAULTS.admin.platformaticRetries,
    retryDelay: KAFKA_DEFAULTS.admin.retryDelayMs,
  });
  warnOn(admin, "admin");
  try {
    await admin.listTopics();
  } catch (err) {
    await bestEffort(admin.close());
    throw err;
  }
  return {
    listTopics: () => admin.listTopics(),
    async createTopics(specs) {
      for (const s of specs) {
        try {
          await admin.createTopics({
            topics: [s.topic],
            partitions: s.numPartitions,
            replicas: s.replicationFactor,
            configs: s.configEntries.map((c) => ({ ...c })),
          });
        } catch (err) {
          // a concurrent starter may have won the race
          if (!hasError(err, "apiId", "TOPIC_ALREADY_EXISTS")) throw err;
        }
      }
    },
    async partitions(topic) {
      try {
        const meta = await admin.metadata({ topics: [topic], forceUpdate: true });
        return (meta.topics.get(topic)?.partitions ?? []).map((p, partition) => ({ partition, leader: p.leader }));
      } catch (err) {
        const names = errorNames(err);
        if (names.includes("UNKNOWN_TOPIC_OR_PARTITION") || names.includes("LEADER_NOT_AVAILABLE")) return [];
        throw err;
      }
    },
    offsets: (topic) => offsetRanges(admin, topic),
    async committed(group, topic) {
      const [res] = await admin.listConsumerGroupOffsets({ groups: [group] });
      const out = new Map<number, number>();
      for (const t of res?.topics ?? [])
        if (t.name === topic)
          for (const p of t.partitions) if (p.committedOffset >= 0n) out.set(p.partitionIndex, Number(p.committedOffset));
      return out;
    },
    listGroups: async () => [...(await admin.listGroups()).keys()],
    async describeGroup(group) {
      const g = (await admin.describeGroups({ groups: [group] })).get(group);
      return { state: g?.state ?? "DEAD", members: g?.members.size ?? 0 };
    },
    async createPartitions(topic, count) {
      await admin.createPartitions({ topics: [{ name: topic, count }] });
    },
    async deleteTopics(topics) {
      if (topics.length) await admin.deleteTopics({ topics: [...topics] });
    },
    async deleteGroups(groups) {
      if (groups.length) await admin.deleteGroups({ groups: [...groups] });
    },
    close: () => admin.close(),
  } satisfies KafkaAdmin;
}

/** Each partition's first and next offset, over the partition count as it is now (a cached one may predate a grown or recreated topic). */
function offsetRanges(admin: Admin, topic: string): Promise<OffsetRange[]> {
  return pastMetadataSettling(
    async () => {
      const meta = await admin.metadata({ topics: [topic], forceUpdate: true });
      const count = meta.topics.get(topic)?.partitionsCount ?? 0;
      const ask = (timestamp: bigint) =>
        admin.listOffsets({
          topics: [{ name: topic, partitions: Array.from({ length: count }, (_, i) => ({ partitionIndex: i, timestamp })) }],
        });
      const [low, high] = await Promise.all([ask(EARLIEST), ask(LATEST)]);
      const lowOf = new Map((low[0]?.partitions ?? []).map((p) => [p.partitionIndex, Number(p.offset)]));
      return (high[0]?.partitions ?? [])
        .map((p) => ({ partition: p.partitionIndex, low: lowOf.get(p.partitionIndex) ?? 0, high: Number(p.offset) }))
        .sort((a, b) => a.partition - b.partition);
    },
    errorNames,
    async () => (await admin.listTopics()).includes(topic),
  );
}

async function platformaticWriter(
  base: ConnectionBase,
  compression: KafkaClientOptions["compression"],
  warnOn: WarnOn,
): Promise<PartitionWriter> {
  const producer = new Producer({
    ...base,
    idempotent: true,
    acks: ProduceAcks.ALL,
    compression,
    partitioner: compatibilityPartitioner,
    // idempotent alone retries forever; a few quick retries (a leader moving), then the
    // batching producer opens a new writer and resends
    retries: P.retries,
    retryDelay: P.retryDelayMs,
    timeout: P.requestTimeoutMs,
  });
  warnOn(producer, "producer");
  return {
    async send(topic, partition, messages) {
      // platformatic sends to a partition its metadata lacks at that number modulo the count it
      // knows (another partition, silently): a partition just added is looked up first
      const count = async (forceUpdate: boolean) =>
        (await producer.metadata({ topics: [topic], forceUpdate })).topics.get(topic)?.partitionsCount ?? 0;
      if (partition >= (await count(false))) {
        const known = await count(true);
        if (partition >= known) throw new PartitionUnknown(topic, partition, known);
      }
      const { offsets } = await producer.send({
        messages: messages.map((m) => ({
          topic,
          partition,
          key: m.key === null ? undefined : Buffer.from(m.key),
          value: typeof m.value === "string" ? Buffer.from(m.value) : (m.value as Buffer),
        })),
      });
      const mine = offsets?.find((o) => o.topic === topic && o.partition === partition);
      return mine === undefined ? null : Number(mine.offset);
    },
    close: () => producer.close(true),
  } satisfies PartitionWriter;
}

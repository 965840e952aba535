import { CompressionTypes, Kafka, type KafkaMessage, logLevel, type logCreator, Partitioners } from "kafkajs";
import { StormLog, withFields } from "../../log.ts";
import { KAFKA_DEFAULTS } from "../../kafka-defaults.ts";
import { POLICIES, retry } from "../../retry.ts";
import type {
  Batch,
  ConsumerSpec,
  IncomingMessage,
  KafkaAdmin,
  KafkaClient,
  KafkaClientOptions,
  PartitionWriter,
  RunningConsumer,
} from "../port.ts";
import { bestEffort } from "../../errors.ts";
import { kafkaErrorNames, PartitionUnknown, pastMetadataSettling } from "../send-errors.ts";

// The kafkajs 2.2.4 adapter (the default client).

// kafkajs' request queue arms setTimeout with a negative delay when it is not throttled; the
// runtime clamps it to 1 ms and prints a TimeoutNegativeWarning per client. Harmless and unfixed
// upstream, so that one warning is dropped, from the first client on (importing this file changes
// nothing); every other warning is still printed.
let warningsFiltered = false;
function filterTimeoutNegativeWarning(): void {
  if (warningsFiltered) return;
  warningsFiltered = true;
  process.removeAllListeners("warning");
  process.on("warning", (w) => {
    if (w.name !== "TimeoutNegativeWarning") console.error(`${w.name}: ${w.message}`);
  });
}

const P = KAFKA_DEFAULTS.producer;
const C = KAFKA_DEFAULTS.consumer;

export function kafkajsClient(opts: KafkaClientOptions): KafkaClient {
  filterTimeoutNegativeWarning();
  const log = withFields(opts.log, { client: "kafkajs" });
  const storm = new StormLog((line) => log.warn(line));
  const kafka = new Kafka({
    clientId: opts.clientId,
    brokers: [...opts.brokers],
    logLevel: logLevel.WARN,
    logCreator: summarised(storm),
    connectionTimeout: KAFKA_DEFAULTS.connectTimeoutMs,
    retry: { initialRetryTime: KAFKA_DEFAULTS.admin.retryFirstMs, retries: KAFKA_DEFAULTS.admin.retries },
  });
  const compression = opts.compression === "gzip" ? CompressionTypes.GZIP : CompressionTypes.None;

  return {
    name: "kafkajs",
    brokers: opts.brokers,

    admin: () => kafkajsAdmin(kafka),
    writer: () => kafkajsWriter(kafka, compression),
    consume: (spec) => kafkajsConsume(kafka, spec, opts.metadataRefreshMs),
    errorNames: (err) => kafkaErrorNames(err, kafkaErrorName),
  };
}

async function kafkajsAdmin(kafka: Kafka): Promise<KafkaAdmin> {
  const admin = kafka.admin();
  await admin.connect();
  return {
    listTopics: () => admin.listTopics(),
    async createTopics(specs) {
      try {
        await admin.createTopics({ topics: specs.map((s) => ({ ...s, configEntries: [...s.configEntries] })), waitForLeaders: false });
      } catch (err) {
        // a concurrent starter may have won the race; anything still missing afterwards is real
        const now = new Set(await admin.listTopics());
        if (specs.some((s) => !now.has(s.topic))) throw err;
      }
    },
    async partitions(topic) {
      try {
        const meta = await admin.fetchTopicMetadata({ topics: [topic] });
        return (meta.topics[0]?.partitions ?? []).map((p) => ({ partition: p.partitionId, leader: p.leader }));
      } catch (err) {
        if ((err as { type?: string }).type === "UNKNOWN_TOPIC_OR_PARTITION") return [];
        throw err;
      }
    },
    async offsets(topic) {
      const ends = await pastMetadataSettling(
        () => admin.fetchTopicOffsets(topic),
        (err) => kafkaErrorNames(err, kafkaErrorName),
        async () => (await admin.listTopics()).includes(topic),
      );
      return ends.map((p) => ({ partition: p.partition, low: Number(p.low), high: Number(p.high) }));
    },
    // On a new cluster the group coordinator moves while __consumer_offsets settles, and
    // kafkajs' admin surfaces NOT_COORDINATOR instead of retrying it.
    async committed(group, topic) {
      const res = await retry(() => admin.fetchOffsets({ groupId: group, topics: [topic] }), {
        ...POLICIES.kafkaSettling,
        retriable: (err) => (err as { retriable?: boolean }).retriable === true,
      });
      const out = new Map<number, number>();
      for (const p of res[0]?.partitions ?? []) if (Number(p.offset) >= 0) out.set(p.partition, Number(p.offset));
      return out;
    },
    listGroups: async () => (await admin.listGroups()).groups.map((g) => g.groupId),
    async describeGroup(group) {
      const g = (await admin.describeGroups([group])).groups[0];
      return { state: g?.state ?? "Dead", members: g?.members.length ?? 0 };
    },
    async createPartitions(topic, count) {
      await admin.createPartitions({ topicPartitions: [{ topic, count }] });
    },
    async deleteTopics(topics) {
      if (topics.length) await admin.deleteTopics({ topics: [...topics] });
    },
    async deleteGroups(groups) {
      if (groups.length) await admin.deleteGroups([...groups]);
    },
    close: () => admin.disconnect(),
  } satisfies KafkaAdmin;
}

async function kafkajsWriter(kafka: Kafka, compression: CompressionTypes): Promise<PartitionWriter> {
  const producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    // never consulted (every batch names its partition), set so kafkajs does not warn about its default
    createPartitioner: Partitioners.DefaultPartitioner,
    retry: { retries: P.retries, initialRetryTime: P.retryFirstMs, maxRetryTime: P.retryMaxMs },
  });
  try {
    await producer.connect();
  } catch (err) {
    await bestEffort(producer.disconnect());
    throw err;
  }
  return {
    async send(topic, partition, messages) {
      const acked = await producer.sendBatch({
        acks: -1,
        compression,
        topicMessages: [{ topic, messages: messages.map((m) => ({ key: m.key, value: m.value, partition })) }],
      });
      // kafkajs sends nothing for a partition its metadata lacks, and resolves all the same
      const mine = acked.find((r) => r.topicName === topic && r.partition === partition);
      if (!mine) throw new PartitionUnknown(topic, partition);
      return mine.baseOffset === undefined ? null : Number(mine.baseOffset);
    },
    close: () => producer.disconnect(),
  } satisfies PartitionWriter;
}

async function kafkajsConsume(kafka: Kafka, spec: ConsumerSpec, metadataRefreshMs: number): Promise<RunningConsumer> {
  const consumer = kafka.consumer({
    groupId: spec.group,
    allowAutoTopicCreation: false,
    maxWaitTimeInMs: C.maxWaitMs,
    // A member whose metadata is older than this looks again; a topic grown meanwhile makes it
    // rejoin, and the leader's rejoin reassigns the new partitions (kafkajs' default is 5 min).
    metadataMaxAge: metadataRefreshMs,
    maxBytesPerPartition: C.maxBytesPerPartition,
    // A consumer that crashes with its broker (kafkajs restarts it as a new member) leaves its
    // old membership behind: the group waits for that one's session to time out
    sessionTimeout: C.sessionTimeoutMs,
    heartbeatInterval: C.heartbeatIntervalMs,
    // when its retries run out kafkajs crashes the consumer and restarts it as a new member
    // after its last retry delay (up to 30 s by default), and the group then waits for the old
    // member's session to expire: retries of at most 1 s spanning ~10 s keep the same member
    retry: { initialRetryTime: C.retryFirstMs, maxRetryTime: C.retryMaxMs, retries: C.retries },
  });
  let stopping = false;
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    if (!payload.restart && !stopping) spec.onFatal(payload.error);
  });
  await consumer.connect();
  await consumer.subscribe({ topic: spec.topic, fromBeginning: true });
  await consumer.run({
    autoCommit: true,
    autoCommitThreshold: 1, // commitOffsetsIfNecessary() then commits every resolved batch
    eachBatchAutoResolve: false,
    eachBatch: async ({ batch, resolveOffset, heartbeat, commitOffsetsIfNecessary, isRunning, isStale }) => {
      if (batch.messages.length === 0 || !isRunning() || isStale()) return;
      let lost = false;
      const control = {
        owned: () => isRunning() && !isStale() && !lost,
        heartbeat: () =>
          heartbeat().catch((err: { type?: unknown }) => {
            // a connection or coordinator error is retried by the next heartbeat; a lost membership is not
            if (typeof err?.type === "string" && LOST_MEMBERSHIP.has(err.type)) lost = true;
          }),
      };
      const ported: Batch = { topic: batch.topic, partition: batch.partition, messages: batch.messages.map(incoming) };
      if (!(await spec.onBatch(ported, control))) return;
      resolveOffset(batch.lastOffset());
      await commitOffsetsIfNecessary();
    },
  });
  return {
    async stop() {
      stopping = true;
      await consumer.disconnect(); // waits for the batch in hand; its offsets commit after its write
    },
  };
}

// The group moved on without this member: the batch belongs to whoever is assigned the partition
// next (kafkajs rejoins once the batch is given back).
const LOST_MEMBERSHIP = new Set(["REBALANCE_IN_PROGRESS", "ILLEGAL_GENERATION", "UNKNOWN_MEMBER_ID", "FENCED_INSTANCE_ID"]);

function incoming(m: KafkaMessage): IncomingMessage {
  const message: IncomingMessage = { key: m.key ?? null, value: m.value ?? null, offset: m.offset };
  // kafkajs gathers a repeated header key into an array
  for (const key in m.headers) {
    const v = m.headers[key];
    for (const one of Array.isArray(v) ? v : [v]) (message.headers ??= []).push([key, one === undefined ? null : Buffer.from(one)]);
  }
  return message;
}

/** A KafkaJSProtocolError's Kafka name (its `type`). */
function kafkaErrorName(err: object): string | undefined {
  const type = (err as { type?: unknown }).type;
  return typeof type === "string" ? type : undefined;
}

// kafkajs logs retried protocol errors (a broker not yet hosting a new partition, a rebalance in
// progress) at ERROR as JSON; they are expected and retried. Its warning about bounded retries on
// the idempotent producer is dropped too: the batching producer resends what a send gave up on,
// and a resend is harmless because every consumer writes idempotently by id. Everything else is
// kept and summarised per kind: a dead broker makes kafkajs log every reconnect of every client.
const EXPECTED = [/^(\[Connection\] )?Response /, /^Limiting retries for the idempotent producer/];

function summarised(storm: StormLog): logCreator {
  return () =>
    ({ level, log }) => {
      if (EXPECTED.some((re) => re.test(log.message ?? ""))) return;
      const name = level >= logLevel.INFO ? "INFO" : level === logLevel.WARN ? "WARN" : "ERROR";
      const detail = log.error && !String(log.message).includes(String(log.error)) ? `: ${log.error}` : "";
      storm.note(`${log.message}${detail}`, `the client logged ${name}:`);
    };
}

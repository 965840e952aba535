import {
  Admin,
  Consumer,
  compatibilityPartitioner,
  findErrorBy,
  type Message,
  type MessagesStream,
  MessagesStreamFallbackModes,
  MessagesStreamModes,
  Producer,
  ProduceAcks,
} from "@platformatic/kafka";
import { asError, bestEffort, describe } from "../../errors.ts";
import { StormLog } from "../../log.ts";
import { KAFKA_DEFAULTS } from "../../kafka-defaults.ts";
import { POLICIES, retry, within } from "../../retry.ts";
import type {
  Batch,
  BatchControl,
  ConsumerSpec,
  IncomingMessage,
  KafkaAdmin,
  KafkaClient,
  KafkaClientOptions,
  PartitionWriter,
  RunningConsumer,
} from "../port.ts";
import { kafkaErrorNames, PartitionUnknown, pastMetadataSettling } from "../send-errors.ts";
import { FetchBuffer } from "./fetch-buffer.ts";
import { GrowthWatch } from "./growth-watch.ts";
import { type FetchView, StallWatch } from "./stall-watch.ts";

// The @platformatic/kafka 2.12 adapter (KAFKA_CLIENT=platformatic): pure TypeScript, about half of
// kafkajs' CPU per record. What differs from kafkajs stays here: offsets are bigint, a stream
// starts at LATEST and commits at fetch time unless told otherwise, there is no eachBatch (batches
// are gathered from the message stream), a fetch failure ends the stream, and messages of a
// partition already fetched are still delivered after it moved to another member, and a fetch can
// stall one partition without an error.

const EARLIEST = -2n;
const LATEST = -1n;

const P = KAFKA_DEFAULTS.producer;
const C = KAFKA_DEFAULTS.consumer;

export function platformaticClient(opts: KafkaClientOptions): KafkaClient {
  const storm = new StormLog((line) => opts.log.warn(line));
  const base = { clientId: opts.clientId, bootstrapBrokers: [...opts.brokers], connectTimeout: KAFKA_DEFAULTS.connectTimeoutMs };
  const warnOn = (client: { on(event: "error", listener: (err: Error) => void): unknown }, what: string) =>
    client.on("error", (err) => storm.note(describe(err), `[platformatic] ${what}:`));

  return {
    name: "platformatic",
    brokers: opts.brokers,

    async admin() {
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
        async offsets(topic) {
          return pastMetadataSettling(async () => {
            // the partition count as it is now (a cached one may predate a grown or recreated topic)
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
          }, errorNames);
        },
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
    },

    async writer() {
      const producer = new Producer({
        ...base,
        idempotent: true,
        acks: ProduceAcks.ALL,
        compression: opts.compression,
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
          await producer.send({
            messages: messages.map((m) => ({
              topic,
              partition,
              key: m.key === null ? undefined : Buffer.from(m.key),
              value: typeof m.value === "string" ? Buffer.from(m.value) : (m.value as Buffer),
            })),
          });
        },
        close: () => producer.close(true),
      } satisfies PartitionWriter;
    },

    consume: (spec) => consumeBatches(base, spec, storm, opts.metadataRefreshMs),

    errorNames,
  };
}

/** Messages gathered per partition before a batch is handed over, and the buffer that pauses fetching. */
const MAX_BATCH = 5000;
const HIGH_WATER = 3 * MAX_BATCH;
/** How often fetching is checked for a stalled partition, and the group's offsets against what was written. */
const WATCH_MS = 10_000;
/** A commit, an offsets lookup or a close that takes longer is taken as failed. */
const CALL_TIMEOUT_MS = 15_000;

type CommitOffset = { topic: string; partition: number; offset: bigint; leaderEpoch: number };

/**
 * The batch consumer over platformatic's message stream. Per partition it tracks the next offset it
 * expects: a message below it is a copy (the stream re-reads from the committed offset after every
 * rebalance) and is dropped; a message above it right after a rebalance means the stream skipped
 * ahead (a fetch answered after the group moved on), and the stream is then reopened at the
 * committed offsets. Offsets are committed only for partitions still assigned, and only past
 * batches the handler accepted. A commit can fail, or be overtaken by an older one the client was
 * still retrying (the last to land wins), so every WATCH_MS the group's offsets are read back and
 * any that stands behind what this member wrote is committed again. A stream that fails (a broker
 * gone past its retries), a membership whose heartbeats stalled, a handler that threw, or a fetch
 * that stopped on a partition whose log holds more (see StallWatch) reopens the consumer with
 * backoff; only when that keeps failing for two minutes is the consumer given up.
 */
async function consumeBatches(
  base: { clientId: string; bootstrapBrokers: string[]; connectTimeout: number },
  spec: ConsumerSpec,
  storm: StormLog,
  refreshMs: number,
): Promise<RunningConsumer> {
  let stopping = false;
  let consumer: Consumer | null = null;
  let stream: MessagesStream<Buffer, Buffer, Buffer, Buffer> | null = null;
  /** Partitions assigned now, each with the count of times it was gained (a batch is owned while that count holds). */
  const assigned = new Map<number, number>();
  let gains = 0;
  /** Per partition: the offset expected next (what was fetched so far continues there). */
  const expected = new Map<number, bigint>();
  /** Partitions whose first message after a rebalance is still to come. */
  const resuming = new Set<number>();
  const pending = new FetchBuffer<Message<Buffer, Buffer, Buffer, Buffer>>(() => stream, MAX_BATCH, HIGH_WATER);
  let wake: (() => void) | null = null;
  const notify = () => {
    const w = wake;
    wake = null;
    w?.();
  };
  let broken: Error | null = null;
  /** Per partition this member owns: the commit past its last written batch. */
  const written = new Map<number, CommitOffset>();
  const watch = new StallWatch();
  /** Counts the clients opened and closed: events of a client already closed are ignored. */
  let generation = 0;
  const growth = new GrowthWatch();

  const open = async () => {
    const mine = ++generation;
    const current = () => mine === generation;
    const c = new Consumer({
      ...base,
      groupId: spec.group,
      autocommit: false,
      sessionTimeout: C.sessionTimeoutMs,
      rebalanceTimeout: C.rebalanceTimeoutMs,
      heartbeatInterval: C.heartbeatIntervalMs,
      maxWaitTime: C.maxWaitMs,
      maxBytesPerPartition: C.maxBytesPerPartition,
      maxBytes: C.maxBytes,
      highWaterMark: HIGH_WATER,
      retries: C.retries,
      retryDelay: C.retryDelayMs,
    });
    c.on("consumer:group:join", ({ assignments, isLeader }: GroupJoin) => {
      if (!current()) return;
      // the leader assigned from its cached metadata: the count is read from that cache
      const cached = { topics: [spec.topic], metadataMaxAge: Number.MAX_SAFE_INTEGER };
      growth.joined(isLeader, async () => (await c.metadata(cached)).topics.get(spec.topic)?.partitionsCount);
      const now = new Set(assignments.filter((a) => a.topic === spec.topic).flatMap((a) => a.partitions));
      for (const p of [...assigned.keys()])
        if (!now.has(p)) {
          assigned.delete(p);
          expected.delete(p);
          written.delete(p);
        }
      for (const p of now) if (!assigned.has(p)) assigned.set(p, ++gains);
      for (const p of now) resuming.add(p);
      pending.keep(now);
    });
    c.on("error", (err: Error) => current() && fail(err));
    // the client stopped heartbeating for a rebalance timeout (a rejoin that failed without an error)
    c.on("consumer:heartbeat:stalled", () => current() && fail(new Error(`the membership of ${spec.group} stopped heartbeating`)));
    let s: MessagesStream<Buffer, Buffer, Buffer, Buffer>;
    try {
      s = await c.consume({
        topics: [spec.topic],
        mode: MessagesStreamModes.COMMITTED,
        fallbackMode: MessagesStreamFallbackModes.EARLIEST,
        autocommit: false,
      });
    } catch (err) {
      await bestEffort(within(CALL_TIMEOUT_MS, `closing the consumer of ${spec.topic}`, c.close(true)));
      throw err;
    }
    s.on("data", (m: Message<Buffer, Buffer, Buffer, Buffer>) => {
      if (!current() || !assigned.has(m.partition)) return;
      const next = expected.get(m.partition);
      if (next !== undefined && m.offset < next) return; // a copy of what was fetched already
      if (next !== undefined && m.offset > next && resuming.has(m.partition)) {
        fail(new Error(`the stream skipped from offset ${next} to ${m.offset} of ${spec.topic}/${m.partition}`));
        return;
      }
      resuming.delete(m.partition);
      expected.set(m.partition, m.offset + 1n);
      pending.push(m);
      notify();
    });
    s.on("error", (err: Error) => current() && fail(err));
    consumer = c;
    stream = s;
  };

  const fail = (err: Error) => {
    if (stopping) return;
    broken ??= err;
    notify();
  };

  const close = async () => {
    const c = consumer;
    generation++;
    consumer = null;
    growth.reset();
    stream = null;
    if (c) await bestEffort(within(CALL_TIMEOUT_MS, `closing the consumer of ${spec.topic}`, c.close(true)));
  };

  const reopen = async () => {
    storm.note(describe(broken), `[platformatic] consumer of ${spec.topic} reopened at its committed offsets after:`);
    broken = null;
    await close();
    assigned.clear();
    expected.clear();
    resuming.clear();
    written.clear(); // the new consumer reads again from the committed offsets
    watch.reset();
    pending.clear();
    const started = Date.now();
    await retry(
      async () => {
        if (stopping) return;
        await close();
        await open();
      },
      {
        ...POLICIES.consumerReopen,
        retriable: () => !stopping && Date.now() - started < 120_000,
        onRetry: (err) => storm.note(describe(err), `[platformatic] cannot reopen the consumer of ${spec.topic} (retrying):`),
      },
    );
  };

  const handle = async (partition: number, messages: Message<Buffer, Buffer, Buffer, Buffer>[]) => {
    const gained = assigned.get(partition);
    const control: BatchControl = {
      owned: () => !stopping && broken === null && gained !== undefined && assigned.get(partition) === gained,
      heartbeat: async () => {}, // the client heartbeats on its own timer
    };
    if (!control.owned()) return;
    const batch: Batch = { topic: spec.topic, partition, messages: messages.map(incoming) };
    if (!(await spec.onBatch(batch, control)) || !control.owned()) return;
    const last = messages[messages.length - 1] as Message<Buffer, Buffer, Buffer, Buffer>;
    const offset = { topic: spec.topic, partition, offset: last.offset + 1n, leaderEpoch: last.leaderEpoch ?? -1 };
    written.set(partition, offset);
    await commit([offset]);
  };

  /** Commits past written batches; one that fails is found behind and sent again by the next watch, or by stop(). */
  const commit = async (offsets: CommitOffset[]) => {
    const c = consumer;
    if (!c || offsets.length === 0) return;
    const what = `the commit of ${spec.topic}/${offsets.map((o) => o.partition).join(",")}`;
    try {
      await within(CALL_TIMEOUT_MS, what, c.commit({ offsets }));
    } catch (err) {
      storm.note(describe(err), `[platformatic] ${what} failed (tried again):`);
    }
  };

  /** The commits of the partitions whose group offset stands behind what this member wrote. */
  const behind = async (c: Consumer): Promise<CommitOffset[]> => {
    const mine = [...written.values()].filter((o) => assigned.has(o.partition));
    if (mine.length === 0) return [];
    const topics = [{ topic: spec.topic, partitions: mine.map((o) => o.partition) }];
    try {
      const at = (await within(CALL_TIMEOUT_MS, "reading committed offsets", c.listCommittedOffsets({ topics }))).get(spec.topic) ?? [];
      return mine.filter((o) => (at[o.partition] ?? -1n) < o.offset);
    } catch {
      return []; // a broker away: the next look
    }
  };

  /** Every WATCH_MS: commits that stand behind again, then a stalled partition reopens the consumer. */
  const checkProgress = async () => {
    const c = consumer;
    const s = stream;
    if (!c || !s || stopping || broken !== null) return watch.reset();
    await commit(await behind(c));
    if (pending.paused) return watch.reset(); // fetching stopped on purpose: the buffer is full
    let ends: bigint[];
    try {
      ends = (await within(CALL_TIMEOUT_MS, "listing offsets", c.listOffsets({ topics: [spec.topic] }))).get(spec.topic) ?? [];
    } catch {
      return watch.reset(); // a broker away: the stream's own errors decide
    }
    if (c !== consumer || pending.paused) return watch.reset();
    const view = new Map<number, FetchView>();
    for (const partition of assigned.keys()) {
      const position = s.offsetsToFetch.get(`${spec.topic}:${partition}`);
      const end = ends[partition];
      if (position !== undefined && end !== undefined) view.set(partition, { position, end });
    }
    const stalled = watch.check(view);
    if (stalled.length > 0)
      fail(
        new Error(`no record of ${spec.topic} partition ${stalled.join(", ")} fetched for ${WATCH_MS / 1000} s though its log holds more`),
      );
  };
  /** Every `refreshMs`, as the leader: a topic that gained partitions since it assigned them rejoins the group (see GrowthWatch). */
  const checkGrowth = async () => {
    const c = consumer;
    if (!c || stopping || broken !== null) return;
    const count = async () => {
      const meta = await within(CALL_TIMEOUT_MS, "reading metadata", c.metadata({ topics: [spec.topic], forceUpdate: true }));
      return meta.topics.get(spec.topic)?.partitionsCount ?? 0;
    };
    const grew = await growth.grown(count).catch(() => null); // a broker away: the next look
    if (!grew || c !== consumer) return;
    storm.note(`${spec.topic} grew from ${grew.from} to ${grew.to} partitions`, `[platformatic] the group's leader reassigns:`);
    try {
      // a leader's rejoin rebalances the group (the library rejoins so itself when a commit finds the group moved on)
      await within(CALL_TIMEOUT_MS, `rejoining ${spec.group}`, c.joinGroup({}));
    } catch (err) {
      if (c === consumer) fail(asError(err));
    }
  };
  let growing = false;
  const partitionTimer = setInterval(() => {
    if (growing) return;
    growing = true;
    void checkGrowth().finally(() => (growing = false));
  }, refreshMs);

  let checking = false;
  const watchTimer = setInterval(() => {
    if (checking) return;
    checking = true;
    void checkProgress().finally(() => (checking = false));
  }, WATCH_MS);

  const loop = (async () => {
    while (!stopping) {
      if (broken) {
        try {
          await reopen();
        } catch (err) {
          if (!stopping) spec.onFatal(asError(err));
          return;
        }
        continue;
      }
      const batch = pending.take();
      if (batch.length === 0) {
        await new Promise<void>((r) => (wake = r));
        continue;
      }
      try {
        await handle((batch[0] as Message<Buffer, Buffer, Buffer, Buffer>).partition, batch);
      } catch (err) {
        fail(asError(err)); // nothing of the batch was committed: it is read again after the reopen
      }
    }
  })();

  try {
    await open();
  } catch (err) {
    stopping = true;
    clearInterval(watchTimer);
    clearInterval(partitionTimer);
    notify();
    await close();
    throw err;
  }
  return {
    async stop() {
      stopping = true;
      clearInterval(watchTimer);
      clearInterval(partitionTimer);
      notify();
      await loop;
      if (consumer) await commit(await behind(consumer));
      await close();
      storm.close();
    },
  };
}

/**
 * The Kafka names in a platformatic error (its protocol errors' apiId, wrapped two levels deep); a
 * topic missing from the metadata is a plain "Unknown topic" error there, the library's only sign.
 */
function errorNames(err: unknown): string[] {
  return kafkaErrorNames(err, (e) => {
    const { apiId, code, message } = e as { apiId?: unknown; code?: unknown; message?: unknown };
    if (typeof apiId === "string") return apiId;
    if (code === "PLT_KFK_USER" && typeof message === "string" && message.startsWith("Unknown topic ")) return "UNKNOWN_TOPIC_OR_PARTITION";
    return undefined;
  });
}

/** Whether `err` or an error nested in it (platformatic wraps protocol errors two levels deep) has `key` = `value`. */
function hasError(err: unknown, key: string, value: unknown): boolean {
  return err instanceof Error && findErrorBy(err, key as never, value as never) !== null;
}

type GroupJoin = { assignments: { topic: string; partitions: number[] }[]; isLeader: boolean };

function incoming(m: Message<Buffer, Buffer, Buffer, Buffer>): IncomingMessage {
  const message: IncomingMessage = { key: m.key ?? null, value: m.value ?? null, offset: m.offset.toString() };
  if (m.headers?.size) message.headers = [...m.headers].map(([k, v]) => [k.toString(), v ?? null] as const);
  return message;
}

import type { Batch, Consumer, Kafka, KafkaMessage } from "kafkajs";
import type { Logger } from "../log.ts";
import { decode, type EventKinds, InvalidEvent } from "./envelope.ts";
import type { BatchingProducer } from "./producer.ts";
import type { EntityTopic, TopicNames } from "./topics.ts";

// One parameterised batch consumer serves all nine instances (users/products/orders × 3).
// Per fetched batch: validate → one write per table → dead-letter what cannot be stored →
// only then resolve and commit the offsets. A crash at any point replays the batch, and the
// writes are idempotent by id, so a replay changes nothing twice.

export interface SinkResult {
  /** Ids that could not be written yet (e.g. an order whose user has not arrived): retried. */
  retryIds: string[];
}

export type Sink<E extends EntityTopic> = (items: EventKinds[E][]) => Promise<SinkResult>;

export interface ConsumerHooks {
  onBatch?(info: { entity: EntityTopic; size: number; written: number; dlq: number; writeMs: number }): void;
}

export interface EntityConsumerOptions<E extends EntityTopic> {
  kafka: Kafka;
  names: TopicNames;
  entity: E;
  sink: Sink<E>;
  dlq: BatchingProducer;
  log: Logger;
  /** How long an unresolvable record (missing user/product) is retried before it is dead-lettered. */
  retryForMs?: number;
  hooks?: ConsumerHooks;
  fromBeginning?: boolean;
}

export interface DeadLetter {
  reason: string;
  source: { topic: string; partition: number; offset: string };
  key: string | null;
  value: string | null;
  failed_at: string;
}

export async function startEntityConsumer<E extends EntityTopic>(opts: EntityConsumerOptions<E>): Promise<Consumer> {
  const { kafka, names, entity, log } = opts;
  const consumer = kafka.consumer({
    groupId: names.group(entity),
    allowAutoTopicCreation: false,
    maxWaitTimeInMs: 250,
    // Up to 4 MB per partition fetch (kafkajs' default is 1 MB): a consumer behind by more than a
    // fetch gets ~4,000 orders per batch instead of ~1,100, and each batch's fixed costs (one
    // commit, one update per distinct user and product) are shared by 4× as many rows.
    maxBytesPerPartition: 4 * 1024 * 1024,
    sessionTimeout: 30_000,
    heartbeatInterval: 3_000,
  });
  await consumer.connect();
  await consumer.subscribe({ topic: names.topic(entity), fromBeginning: opts.fromBeginning ?? true });
  await consumer.run({
    autoCommit: true,
    autoCommitThreshold: 1, // commitOffsetsIfNecessary() then commits every resolved batch
    eachBatchAutoResolve: false,
    eachBatch: async ({ batch, resolveOffset, heartbeat, commitOffsetsIfNecessary, isRunning, isStale }) => {
      if (batch.messages.length === 0 || !isRunning() || isStale()) return;
      const { records, dead } = decodeBatch(entity, batch);
      const started = performance.now();
      const written = await writeWithRetry(opts, records, dead, batch, { heartbeat, isRunning, isStale });
      if (written === null) return; // shutting down or rebalanced: leave offsets for the next owner
      const writeMs = performance.now() - started;
      if (dead.length > 0) {
        await Promise.all(dead.map((d) => opts.dlq.send(names.dlq(entity), { key: d.key, value: JSON.stringify(d) })));
        log.warn(`${dead.length} record(s) of ${batch.topic}/${batch.partition} dead-lettered: ${dead[0]?.reason}`);
      }
      resolveOffset(batch.lastOffset());
      await commitOffsetsIfNecessary();
      opts.hooks?.onBatch?.({ entity, size: batch.messages.length, written, dlq: dead.length, writeMs });
    },
  });
  return consumer;
}

interface Decoded<T> {
  records: { item: T; message: KafkaMessage }[];
  dead: DeadLetter[];
}

export function decodeBatch<E extends EntityTopic>(entity: E, batch: Pick<Batch, "topic" | "partition" | "messages">): Decoded<EventKinds[E]> {
  const records: Decoded<EventKinds[E]>["records"] = [];
  const dead: DeadLetter[] = [];
  for (const m of batch.messages) {
    try {
      records.push({ item: decode(entity, m.value).data, message: m });
    } catch (err) {
      if (!(err instanceof InvalidEvent)) throw err;
      dead.push(deadLetter(err.message, batch, m));
    }
  }
  return { records, dead };
}

function deadLetter(reason: string, batch: Pick<Batch, "topic" | "partition">, m: KafkaMessage): DeadLetter {
  return {
    reason,
    source: { topic: batch.topic, partition: batch.partition, offset: m.offset },
    key: m.key?.toString("utf8") ?? null,
    value: m.value?.toString("utf8") ?? null,
    failed_at: new Date().toISOString(),
  };
}

const TRANSIENT_BACKOFF_MS = [200, 500, 1000, 2000, 5000];

/**
 * Writes the batch; retries records the sink could not place yet (bounded by retryForMs, then they
 * are dead-lettered with the reason) and retries the whole write on database errors for as long as
 * this consumer still owns the partition. Returns the number written, or null when it gave up
 * because of shutdown or a rebalance (offsets then stay uncommitted: nothing is lost).
 */
async function writeWithRetry<E extends EntityTopic>(
  opts: EntityConsumerOptions<E>,
  records: Decoded<EventKinds[E]>["records"],
  dead: DeadLetter[],
  batch: Batch,
  ctl: { heartbeat(): Promise<void>; isRunning(): boolean; isStale(): boolean },
): Promise<number | null> {
  const retryForMs = opts.retryForMs ?? 30_000;
  const deadline = Date.now() + retryForMs;
  let pending = records;
  let written = 0;
  let failures = 0;
  let waitMs = 50;
  while (pending.length > 0) {
    if (!ctl.isRunning() || ctl.isStale()) return null;
    let result: SinkResult;
    try {
      result = await opts.sink(pending.map((r) => r.item));
      failures = 0;
    } catch (err) {
      const backoff = TRANSIENT_BACKOFF_MS[Math.min(failures++, TRANSIENT_BACKOFF_MS.length - 1)] as number;
      opts.log.error(`write to PostgreSQL failed for ${batch.topic}/${batch.partition} (retrying in ${backoff} ms)`, err);
      await sleepWithHeartbeat(backoff, ctl);
      continue;
    }
    const retry = new Set(result.retryIds);
    written += pending.length - retry.size;
    if (retry.size === 0) break;
    pending = pending.filter((r) => retry.has(r.item.id));
    if (Date.now() >= deadline) {
      const reason = `references a user or product that did not arrive within ${retryForMs} ms`;
      for (const r of pending) dead.push(deadLetter(reason, batch, r.message));
      break;
    }
    await sleepWithHeartbeat(waitMs, ctl);
    waitMs = Math.min(waitMs * 2, 2000);
  }
  return written;
}

async function sleepWithHeartbeat(ms: number, ctl: { heartbeat(): Promise<void> }): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
  await ctl.heartbeat().catch(() => {});
}

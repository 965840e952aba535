import type { Batch, Consumer, Kafka, KafkaMessage } from "kafkajs";
import { describe, StormLog, type Logger } from "../log.ts";
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
  /** Ids the sink refused for good (e.g. a reused id with other content): dead-lettered. */
  rejected: { id: string; reason: string }[];
}

/** What a sink throws: `permanent` when the records themselves are wrong, else the write is retried. */
export class SinkError extends Error {
  readonly permanent: boolean;
  readonly sqlstate?: string;
  constructor(message: string, opts: { permanent: boolean; sqlstate?: string; cause?: unknown }) {
    super(message, { cause: opts.cause });
    this.name = "SinkError";
    this.permanent = opts.permanent;
    this.sqlstate = opts.sqlstate;
  }
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
  /** kafkajs gave up on this consumer (a crash it will not restart from): the partitions would stall. */
  onFatal?: (err: Error) => void;
}

export interface DeadLetter {
  reason: string;
  /** The database's SQLSTATE when PostgreSQL refused the record. */
  sqlstate?: string;
  /** Write rounds the record took part in before it was given up (0: refused on decoding). */
  attempts: number;
  source: { topic: string; partition: number; offset: string };
  key: string | null;
  /** The raw value as UTF-8 text, cut short when it would not fit a dead letter (see deadValue). */
  value: string | null;
  /** Set only when `value` was cut: the raw value's full size in bytes. */
  value_bytes?: number;
  value_truncated?: true;
  failed_at: string;
}

export async function startEntityConsumer<E extends EntityTopic>(opts: EntityConsumerOptions<E>): Promise<Consumer> {
  const { kafka, names, entity, log } = opts;
  const storm = new StormLog((line) => log.warn(line));
  const consumer = kafka.consumer({
    groupId: names.group(entity),
    allowAutoTopicCreation: false,
    maxWaitTimeInMs: 250,
    // Up to 4 MB per partition fetch (kafkajs' default is 1 MB): a consumer behind by more than a
    // fetch gets ~4,000 orders per batch instead of ~1,100, and each batch's fixed costs (one
    // commit, one update per distinct user and product) are shared by 4× as many rows.
    maxBytesPerPartition: 4 * 1024 * 1024,
    // A consumer that crashes with its broker (kafkajs restarts it as a new member) leaves its old
    // membership behind, and the group cannot rebalance until that one's session times out: the
    // session timeout is how long the whole group may stall after a broker loss. 10 s (the broker
    // allows 6 s and up) against kafkajs' 30 s; a batch write takes well under a second, and the
    // retry loops heartbeat while they wait.
    sessionTimeout: 10_000,
    heartbeatInterval: 1_000,
    // A dead broker may be the group's coordinator or a fetched partition's leader. kafkajs
    // retries it, and when its retries run out it crashes the consumer and restarts it as a new
    // member after its last retry delay (up to 30 s by default), and the group then waits for the
    // old member's session to expire. Retries of at most 1 s spanning ~10 s outlast the broker's
    // fencing (6 s here) and the coordinator's move, so the same member carries on. Measured in
    // bench/RESULTS.md ("Broker SIGKILL"): stalls of 4–8 s instead of 10–40 s.
    retry: { initialRetryTime: 100, maxRetryTime: 1000, retries: 12 },
  });
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    if (!payload.restart) opts.onFatal?.(payload.error);
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
      const written = await writeWithRetry({ opts, storm, dead, batch, ctl: { heartbeat, isRunning, isStale } }, records);
      if (written === null) return; // shutting down or rebalanced: leave offsets for the next owner
      const writeMs = performance.now() - started;
      if (dead.length > 0) {
        // acknowledged by Kafka before the offsets move past them: a dead letter is never lost
        await Promise.all(dead.map((d) => opts.dlq.send(names.dlq(entity), { key: d.key, value: JSON.stringify(d) })));
        storm.note(dead[0]?.reason ?? "", `${dead.length} record(s) of ${batch.topic}/${batch.partition} dead-lettered:`, dead.length);
      }
      resolveOffset(batch.lastOffset());
      await commitOffsetsIfNecessary();
      opts.hooks?.onBatch?.({ entity, size: batch.messages.length, written, dlq: dead.length, writeMs });
    },
  });
  return consumer;
}

interface Decoded<T> {
  records: Rec<T>[];
  dead: DeadLetter[];
}

interface Rec<T> {
  item: T;
  message: KafkaMessage;
}

export function decodeBatch<E extends EntityTopic>(
  entity: E,
  batch: Pick<Batch, "topic" | "partition" | "messages">,
): Decoded<EventKinds[E]> {
  const records: Rec<EventKinds[E]>[] = [];
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

/**
 * The batch as write passes in which every id appears once: the first record of each id, then
 * the second, and so on (usually one pass). A repeat is then judged against the stored row, as a
 * repeat in a later batch would be: a resent copy changes nothing, another record under the same
 * id is refused.
 */
function passesById<T extends { id: string }>(records: Rec<T>[]): Rec<T>[][] {
  const passes: Rec<T>[][] = [];
  const seen = new Map<string, number>();
  for (const r of records) {
    const n = seen.get(r.item.id) ?? 0;
    seen.set(r.item.id, n + 1);
    (passes[n] ??= []).push(r);
  }
  return passes;
}

function deadLetter(
  reason: string,
  batch: Pick<Batch, "topic" | "partition">,
  m: KafkaMessage,
  more: { sqlstate?: string; attempts?: number } = {},
): DeadLetter {
  return {
    reason,
    ...(more.sqlstate ? { sqlstate: more.sqlstate } : {}),
    attempts: more.attempts ?? 0,
    source: { topic: batch.topic, partition: batch.partition, offset: m.offset },
    key: m.key?.toString("utf8") ?? null,
    ...deadValue(m.value),
    failed_at: new Date().toISOString(),
  };
}

/**
 * How much of a raw value a dead letter keeps, in bytes of its JSON encoding (escapes included:
 * control characters take six bytes each). A record as large as the broker accepts (1 MB) would
 * otherwise make a dead letter larger than that, which could never be delivered, and the batch
 * holding it could never be committed.
 */
export const DEAD_VALUE_MAX = 256 * 1024;

export function deadValue(value: Buffer | null | undefined): Pick<DeadLetter, "value" | "value_bytes" | "value_truncated"> {
  if (value === null || value === undefined) return { value: null };
  const text = value.toString("utf8");
  if (value.length <= DEAD_VALUE_MAX / 6 || jsonBytes(text) <= DEAD_VALUE_MAX) return { value: text };
  // the longest prefix whose encoding fits (each character takes one byte at least), searched
  // over whole characters: a prefix never ends in the first half of a surrogate pair
  const prefix = (n: number) => text.slice(0, n > 0 && isHighSurrogate(text.charCodeAt(n - 1)) ? n - 1 : n);
  let lo = 0;
  let hi = Math.min(text.length, DEAD_VALUE_MAX);
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    if (jsonBytes(prefix(mid)) <= DEAD_VALUE_MAX) lo = mid;
    else hi = mid - 1;
  }
  return { value: prefix(lo), value_bytes: value.length, value_truncated: true };
}

/** Bytes of `text` as a JSON string body (UTF-8, escapes included, quotes excluded). */
function jsonBytes(text: string): number {
  return Buffer.byteLength(JSON.stringify(text)) - 2;
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

const TRANSIENT_BACKOFF_MS = [200, 500, 1000, 2000, 5000];

interface Outcome<T> {
  written: number;
  retry: Rec<T>[];
  rejected: { record: Rec<T>; reason: string; sqlstate?: string; attempts: number }[];
}

/**
 * Writes the batch. Records the sink cannot place yet are retried (for retryForMs from the first
 * time they could not be placed, then dead-lettered with the reason); records the database refuses
 * for good are isolated and dead-lettered while the rest are stored; a transient database error
 * retries the write for as long as this consumer still owns the partition. Returns the number
 * written, or null when it gave up because of shutdown or a rebalance (offsets then stay
 * uncommitted: nothing is lost).
 */
interface BatchWrite<E extends EntityTopic> {
  opts: EntityConsumerOptions<E>;
  storm: StormLog;
  /** Where the records given up on are collected, to be dead-lettered before the commit. */
  dead: DeadLetter[];
  batch: Batch;
  ctl: BatchControl;
}

interface BatchControl {
  heartbeat(): Promise<void>;
  isRunning(): boolean;
  isStale(): boolean;
  /** Set once a heartbeat said the group went on without this member. */
  lost?: boolean;
}

async function writeWithRetry<E extends EntityTopic>(w: BatchWrite<E>, records: Rec<EventKinds[E]>[]): Promise<number | null> {
  let written = 0;
  for (const pass of passesById(records)) {
    const n = await writePass(w, pass);
    if (n === null) return null;
    written += n;
  }
  return written;
}

async function writePass<E extends EntityTopic>(
  { opts, storm, dead, batch, ctl }: BatchWrite<E>,
  records: Rec<EventKinds[E]>[],
): Promise<number | null> {
  const retryForMs = opts.retryForMs ?? 30_000;
  // the wait for a late user or product starts when one is first missing, not while PostgreSQL is down
  let deadline: number | null = null;
  let pending = records;
  let written = 0;
  let failures = 0;
  let rounds = 0;
  let waitMs = 50;
  while (pending.length > 0) {
    if (!ctl.isRunning() || ctl.isStale() || ctl.lost) return null;
    let outcome: Outcome<EventKinds[E]>;
    const tried = Date.now();
    try {
      outcome = await writeIsolating(opts.sink, pending, ++rounds);
      failures = 0;
    } catch (err) {
      const backoff = TRANSIENT_BACKOFF_MS[Math.min(failures++, TRANSIENT_BACKOFF_MS.length - 1)] as number;
      const code = err instanceof SinkError && err.sqlstate ? ` [${err.sqlstate}]` : "";
      storm.note(
        `${describe(err)}${code}`,
        `write to PostgreSQL failed for ${batch.topic}/${batch.partition}; pausing the partition and retrying (${backoff} ms):`,
      );
      await sleepWithHeartbeat(backoff, ctl);
      if (deadline !== null) deadline += Date.now() - tried; // an outage does not eat the wait
      continue;
    }
    written += outcome.written;
    for (const r of outcome.rejected)
      dead.push(deadLetter(r.reason, batch, r.record.message, { sqlstate: r.sqlstate, attempts: r.attempts }));
    pending = outcome.retry;
    if (pending.length === 0) break;
    deadline ??= Date.now() + retryForMs;
    if (Date.now() >= deadline) {
      const reason = `references a user or product that did not arrive within ${retryForMs} ms`;
      for (const r of pending) dead.push(deadLetter(reason, batch, r.message, { attempts: rounds }));
      break;
    }
    await sleepWithHeartbeat(waitMs, ctl);
    waitMs = Math.min(waitMs * 2, 2000);
  }
  return written;
}

/**
 * One write of `records`. When the sink refuses it for good (a value the database rejects), the
 * records are split in halves and each half written again, down to the single records that fail:
 * those are returned as rejected, every other record is stored in the same pass. A bad record
 * costs about 2·log2(batch) extra statements, and only in the batch that holds it.
 */
async function writeIsolating<T extends { id: string }>(
  sink: (items: T[]) => Promise<SinkResult>,
  records: Rec<T>[],
  attempts: number,
): Promise<Outcome<T>> {
  try {
    const res = await sink(records.map((r) => r.item));
    if (res.retryIds.length === 0 && res.rejected.length === 0) return { written: records.length, retry: [], rejected: [] };
    const retry = new Set(res.retryIds);
    const refused = new Map(res.rejected.map((r) => [r.id, r.reason]));
    const outcome: Outcome<T> = { written: 0, retry: [], rejected: [] };
    for (const r of records) {
      const reason = refused.get(r.item.id);
      if (reason !== undefined) outcome.rejected.push({ record: r, reason, attempts });
      else if (retry.has(r.item.id)) outcome.retry.push(r);
      else outcome.written++;
    }
    return outcome;
  } catch (err) {
    if (!(err instanceof SinkError) || !err.permanent) throw err;
    if (records.length === 1)
      return { written: 0, retry: [], rejected: [{ record: records[0] as Rec<T>, reason: err.message, sqlstate: err.sqlstate, attempts }] };
    const mid = records.length >>> 1;
    const a = await writeIsolating(sink, records.slice(0, mid), attempts + 1);
    const b = await writeIsolating(sink, records.slice(mid), attempts + 1);
    return { written: a.written + b.written, retry: [...a.retry, ...b.retry], rejected: [...a.rejected, ...b.rejected] };
  }
}

// The group moved on without this member: the batch belongs to whoever is assigned the partition
// next (kafkajs rejoins once the batch is given back).
const LOST_MEMBERSHIP = new Set(["REBALANCE_IN_PROGRESS", "ILLEGAL_GENERATION", "UNKNOWN_MEMBER_ID", "FENCED_INSTANCE_ID"]);

async function sleepWithHeartbeat(ms: number, ctl: BatchControl): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
  await ctl.heartbeat().catch((err: { type?: unknown }) => {
    // a connection or coordinator error is retried by the next heartbeat; a lost membership is not
    if (typeof err?.type === "string" && LOST_MEMBERSHIP.has(err.type)) ctl.lost = true;
  });
}

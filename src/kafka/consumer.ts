import { describe, ShopstreamError } from "../errors.ts";
import { StormLog, type Logger } from "../log.ts";
import { backoffMs } from "../retry.ts";
import { type DeadLetter, deadLetter, deliverDeadLetters, noteDeadLetters } from "./dead-letter.ts";
import { decode, type EventKinds, InvalidEvent, stageOf, subjectOf } from "./envelope.ts";
import { BatchReleased, sleepWithHeartbeat, whileOwned } from "./hold.ts";
import type { Batch, BatchControl, IncomingMessage, KafkaClient, RunningConsumer } from "./port.ts";
import type { BatchingProducer } from "./producer.ts";
import type { EntityTopic, TopicNames } from "./topics.ts";

// One parameterised batch consumer serves all nine instances (users/products/orders × 3).
// Per fetched batch: validate → one write per table → dead-letter what cannot be stored →
// only then resolve and commit the offsets. A crash at any point replays the batch, and the
// writes are idempotent by id, so a replay changes nothing twice.

/** Ids are the events' subjects (subjectOf): the entity's id, the order's id for a lifecycle step. */
export interface SinkResult {
  /** Records that could not be written yet (an order whose user has not arrived, a step before its order): retried, with why. */
  retry: { id: string; reason: string }[];
  /** Records the sink refused for good (a reused id with other content, a step that can never apply): dead-lettered. */
  rejected: { id: string; reason: string }[];
}

/** Where each record of a sink's batch was read: the partition, and each record's offset. */
export interface SinkSource {
  partition: number;
  offsets: string[];
}

/** What a sink throws: not retriable when the records themselves are wrong (they are isolated and dead-lettered), else the write is retried. */
export class SinkError extends ShopstreamError {
  readonly sqlstate?: string;
  constructor(message: string, opts: { retriable: boolean; sqlstate?: string; cause?: unknown }) {
    super(message, opts);
    this.sqlstate = opts.sqlstate;
  }
}

export type Sink<E extends EntityTopic> = (items: EventKinds[E][], source: SinkSource) => Promise<SinkResult>;

export interface ConsumerHooks {
  onBatch?(info: { entity: EntityTopic; size: number; written: number; dlq: number; writeMs: number }): void;
}

export interface EntityConsumerOptions<E extends EntityTopic> {
  client: KafkaClient;
  names: TopicNames;
  entity: E;
  sink: Sink<E>;
  dlq: BatchingProducer;
  log: Logger;
  /** How long an unresolvable record (missing user/product) is retried before it is dead-lettered. */
  retryForMs?: number;
  hooks?: ConsumerHooks;
  /** The client gave up on this consumer for good: its partitions would stall. */
  onFatal?: (err: Error) => void;
}

/**
 * Joins the entity's group and writes what it reads; starts from the group's committed offsets (the
 * earliest when it has none). stop() waits for the batch in hand, whose offsets commit after its
 * write, but not on a write that does not finish: that batch is given up uncommitted within a second.
 */
export async function startEntityConsumer<E extends EntityTopic>(opts: EntityConsumerOptions<E>): Promise<RunningConsumer> {
  const { client, names, entity, log } = opts;
  const storm = new StormLog((line) => log.warn(line));
  const consumer = await client.consume({
    group: names.group(entity),
    topic: names.topic(entity),
    onFatal: (err) => opts.onFatal?.(err),
    onBatch: async (batch, control) => {
      if (!control.owned()) return false;
      const { records, dead } = decodeBatch(entity, batch);
      const started = performance.now();
      const written = await writeWithRetry({ opts, storm, dead, batch, control }, records);
      if (written === null) return false; // shutting down or rebalanced: leave offsets for the next owner
      const writeMs = performance.now() - started;
      if (dead.length > 0) {
        // acknowledged by Kafka before the offsets move past them: a dead letter is never lost
        const target = { client: opts.client, names, entity, producer: opts.dlq };
        if (!(await deliverDeadLetters(target, dead, control, storm))) return false;
        noteDeadLetters(storm, dead, `${batch.topic}/${batch.partition}`);
      }
      opts.hooks?.onBatch?.({ entity, size: batch.messages.length, written, dlq: dead.length, writeMs });
      return true;
    },
  });
  return {
    async stop() {
      await consumer.stop();
      storm.close();
    },
  };
}

interface Decoded<T> {
  records: Rec<T>[];
  dead: DeadLetter[];
}

interface Rec<T> {
  item: T;
  message: IncomingMessage;
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
 * The batch as write passes in which every subject appears once: the first record of each id, then
 * the second, and so on (usually one pass). A repeat is then judged against the stored row, as a
 * repeat in a later batch would be: a resent copy changes nothing, another record under the same
 * id is refused. An order and its lifecycle steps share a subject: the order is stored before its
 * steps, and its steps go in the order of its path (stageOf), so two steps read the wrong way round
 * in one batch still apply, and none waits on a later pass.
 */
function passesBySubject<T extends EventKinds[EntityTopic]>(records: Rec<T>[]): Rec<T>[][] {
  const bySubject = new Map<string, Rec<T>[]>();
  let repeats = false;
  for (const r of records) {
    const subject = subjectOf(r.item);
    const list = bySubject.get(subject);
    if (list) {
      list.push(r);
      repeats = true;
    } else bySubject.set(subject, [r]);
  }
  if (!repeats) return [records]; // the usual batch: one pass, in the order read
  const passes: Rec<T>[][] = [];
  for (const list of bySubject.values()) {
    if (list.length > 1) list.sort((a, b) => stageOf(a.item) - stageOf(b.item)); // stable: repeats keep their order
    list.forEach((r, n) => {
      (passes[n] ??= []).push(r);
    });
  }
  return passes;
}

interface Outcome<T> {
  written: number;
  /** Not written yet, with why (the last reason becomes the dead letter's when the wait runs out). */
  retry: { record: Rec<T>; reason: string }[];
  rejected: { record: Rec<T>; reason: string; sqlstate?: string; attempts: number }[];
}

/**
 * Writes the batch. Records the sink cannot place yet are retried (for retryForMs from the first
 * time they could not be placed, then dead-lettered with the reason); records the database refuses
 * for good are isolated and dead-lettered while the rest are stored; a transient database error
 * retries the write for as long as this consumer still owns the partition. While a write is in
 * flight the member heartbeats, and it stops waiting for the write once it no longer owns the batch
 * (src/kafka/hold.ts). Returns the number written, or null when it gave up because of shutdown or a
 * rebalance (offsets then stay uncommitted: nothing is lost).
 */
interface BatchWrite<E extends EntityTopic> {
  opts: EntityConsumerOptions<E>;
  storm: StormLog;
  /** Where the records given up on are collected, to be dead-lettered before the commit. */
  dead: DeadLetter[];
  batch: Batch;
  control: BatchControl;
}

async function writeWithRetry<E extends EntityTopic>(w: BatchWrite<E>, records: Rec<EventKinds[E]>[]): Promise<number | null> {
  let written = 0;
  for (const pass of passesBySubject(records)) {
    const n = await writePass(w, pass);
    if (n === null) return null;
    written += n;
  }
  return written;
}

async function writePass<E extends EntityTopic>(
  { opts, storm, dead, batch, control }: BatchWrite<E>,
  records: Rec<EventKinds[E]>[],
): Promise<number | null> {
  const retryForMs = opts.retryForMs ?? 30_000;
  // the wait for a late user or product starts when one is first missing, not while PostgreSQL is down
  let deadline: number | null = null;
  let pending = records;
  let written = 0;
  let failures = 0;
  let rounds = 0;
  let waits = 0;
  const sink: Sink<E> = (items, source) => whileOwned(opts.sink(items, source), control);
  while (pending.length > 0) {
    if (!control.owned()) return null;
    let outcome: Outcome<EventKinds[E]>;
    const tried = Date.now();
    try {
      outcome = await writeIsolating(sink, batch.partition, pending, ++rounds);
      failures = 0;
    } catch (err) {
      if (err instanceof BatchReleased) return null;
      const backoff = Math.round(backoffMs(++failures, { firstMs: 200, maxMs: 5000 }));
      const code = err instanceof SinkError && err.sqlstate ? ` [${err.sqlstate}]` : "";
      storm.note(
        `${describe(err)}${code}`,
        `write to PostgreSQL failed for ${batch.topic}/${batch.partition}; pausing the partition and retrying (${backoff} ms):`,
      );
      await sleepWithHeartbeat(backoff, control);
      if (deadline !== null) deadline += Date.now() - tried; // an outage does not eat the wait
      continue;
    }
    written += outcome.written;
    for (const r of outcome.rejected)
      dead.push(deadLetter(r.reason, batch, r.record.message, { sqlstate: r.sqlstate, attempts: r.attempts }));
    pending = outcome.retry.map((r) => r.record);
    if (pending.length === 0) break;
    deadline ??= Date.now() + retryForMs;
    if (Date.now() >= deadline) {
      for (const r of outcome.retry)
        dead.push(deadLetter(`${r.reason} within ${retryForMs} ms`, batch, r.record.message, { attempts: rounds }));
      break;
    }
    await sleepWithHeartbeat(backoffMs(++waits, { firstMs: 50, maxMs: 2000, jitter: false }), control);
  }
  return written;
}

/**
 * One write of `records`. When the sink refuses it for good (a value the database rejects), the
 * records are split in halves and each half written again, down to the single records that fail:
 * those are returned as rejected, every other record is stored in the same pass. A bad record
 * costs about 2·log2(batch) extra statements, and only in the batch that holds it.
 */
async function writeIsolating<T extends EventKinds[EntityTopic]>(
  sink: (items: T[], source: SinkSource) => Promise<SinkResult>,
  partition: number,
  records: Rec<T>[],
  attempts: number,
): Promise<Outcome<T>> {
  try {
    const res = await sink(
      records.map((r) => r.item),
      { partition, offsets: records.map((r) => r.message.offset) },
    );
    if (res.retry.length === 0 && res.rejected.length === 0) return { written: records.length, retry: [], rejected: [] };
    const retry = new Map(res.retry.map((r) => [r.id, r.reason]));
    const refused = new Map(res.rejected.map((r) => [r.id, r.reason]));
    const outcome: Outcome<T> = { written: 0, retry: [], rejected: [] };
    for (const r of records) {
      const subject = subjectOf(r.item);
      const reason = refused.get(subject);
      const wait = retry.get(subject);
      if (reason !== undefined) outcome.rejected.push({ record: r, reason, attempts });
      else if (wait !== undefined) outcome.retry.push({ record: r, reason: wait });
      else outcome.written++;
    }
    return outcome;
  } catch (err) {
    if (!(err instanceof SinkError) || err.retriable) throw err;
    if (records.length === 1)
      return { written: 0, retry: [], rejected: [{ record: records[0] as Rec<T>, reason: err.message, sqlstate: err.sqlstate, attempts }] };
    const mid = records.length >>> 1;
    const a = await writeIsolating(sink, partition, records.slice(0, mid), attempts + 1);
    const b = await writeIsolating(sink, partition, records.slice(mid), attempts + 1);
    return { written: a.written + b.written, retry: [...a.retry, ...b.retry], rejected: [...a.rejected, ...b.rejected] };
  }
}

import { describe } from "../errors.ts";
import { StormLog, type Logger } from "../log.ts";
import { backoffMs, POLICIES } from "../retry.ts";
import { type DeadLetter, deadLetter, deliverDeadLetters, noteDeadLetters } from "../kafka/dead-letter.ts";
import { type EventKinds, InvalidEvent } from "../kafka/contract.ts";
import { decode, subjectOf } from "../kafka/envelope.ts";
import { BatchReleased, sleepWithHeartbeat, whileOwned } from "./hold.ts";
import type { ParkedRecord, ParkingLot } from "../db/parking.ts";
import { retryParked } from "./parking-rounds.ts";
import type { Batch, BatchControl, KafkaClient, RunningConsumer } from "../kafka/port.ts";
import type { BatchingProducer } from "../kafka/batching-producer.ts";
import { type Outcome, passesBySubject, type Rec, type Sink, SinkError, writeIsolating } from "./sink.ts";
import type { EntityTopic, TopicNames } from "../kafka/topics.ts";
import type { SchemaReader } from "../schemas/reader.ts";

// One parameterised batch consumer serves all nine instances (users/products/orders × 3).
// Per fetched batch: validate → one write per table → park what waits for a reference →
// dead-letter what cannot be stored → only then resolve and commit the offsets. A crash at any
// point replays the batch, and the writes are idempotent by id, so a replay changes nothing twice.

export interface ConsumerHooks {
  onBatch?(info: { entity: EntityTopic; size: number; written: number; dlq: number; parked: number; writeMs: number }): void;
  /** After each retry round of the parked records (with a parking lot). */
  onParkedRound?(info: { written: number; dlq: number; parked: number }): void;
}

export interface EntityConsumerOptions<E extends EntityTopic> {
  client: KafkaClient;
  names: TopicNames;
  entity: E;
  sink: Sink<E>;
  dlq: BatchingProducer;
  log: Logger;
  /** How long an unresolvable record (missing user/product) is retried in all before it is dead-lettered. */
  retryForMs?: number;
  /**
   * Where such a record waits, so that it holds none of its neighbours: it is parked as soon as a
   * write says it must wait. Without one it waits in its batch, holding the partition, for all
   * of retryForMs.
   */
  parking?: ParkingLot;
  hooks?: ConsumerHooks;
  /** Reads values framed for a schema registry (any format, any version); without one such a value is dead-lettered. */
  schemas?: SchemaReader;
  /** The client gave up on this consumer for good: its partitions would stall. */
  onFatal?: (err: Error) => void;
}

const RETRY_FOR_MS = 30_000;

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
      const w: BatchWrite<E> = { opts, storm, dead: [], parked: [], batch, control };
      // the writers' schemas first: a registry away pauses the partition, as a database away does
      const schemas = opts.schemas;
      if (schemas && (await retrying(w, () => schemas.prepare(batch.messages.map((m) => m.value)), READ_SCHEMAS)) === null) return false;
      const { records, dead } = decodeBatch(entity, batch, schemas);
      w.dead = dead;
      const started = performance.now();
      const free = await parkBehindParked(w, records);
      if (free === null) return false;
      const written = await writeWithRetry(w, free);
      if (written === null) return false; // shutting down or rebalanced: leave offsets for the next owner
      const writeMs = performance.now() - started;
      const lot = opts.parking;
      if (lot && w.parked.length > 0 && (await retrying(w, () => lot.park(w.parked))) === null) return false;
      if (dead.length > 0) {
        // acknowledged by Kafka before the offsets move past them: a dead letter is never lost
        const target = { client: opts.client, names, entity, producer: opts.dlq };
        if (!(await deliverDeadLetters(target, dead, control, storm))) return false;
        noteDeadLetters(storm, dead, `${batch.topic}/${batch.partition}`);
      }
      opts.hooks?.onBatch?.({ entity, size: batch.messages.length, written, dlq: dead.length, parked: w.parked.length, writeMs });
      return true;
    },
  });
  const parked =
    opts.parking &&
    retryParked({
      lot: opts.parking,
      entity,
      topic: names.topic(entity),
      sink: opts.sink,
      deadLetters: { client, names, entity, producer: opts.dlq },
      storm,
      retryForMs: opts.retryForMs ?? RETRY_FOR_MS,
      schemas: opts.schemas,
      onRound: (info) => opts.hooks?.onParkedRound?.(info),
    });
  return {
    async stop() {
      await consumer.stop();
      await parked?.stop();
      storm.close();
    },
  };
}

interface Decoded<T> {
  records: Rec<T>[];
  dead: DeadLetter[];
}

export function decodeBatch<E extends EntityTopic>(
  entity: E,
  batch: Pick<Batch, "topic" | "partition" | "messages">,
  schemas?: SchemaReader,
): Decoded<EventKinds[E]> {
  const records: Rec<EventKinds[E]>[] = [];
  const dead: DeadLetter[] = [];
  for (const m of batch.messages) {
    try {
      records.push({ item: decode(entity, m.value, schemas).data, message: m });
    } catch (err) {
      if (!(err instanceof InvalidEvent)) throw err;
      dead.push(deadLetter(err.message, batch, m));
    }
  }
  return { records, dead };
}

/**
 * Writes the batch. Records the sink cannot place yet are parked (without a parking lot: retried
 * for retryForMs from the first time they could not be placed, then dead-lettered with the
 * reason); records the database refuses for good are isolated and
 * dead-lettered while the rest are stored; a transient database error retries the write for as
 * long as this consumer still owns the partition. While a write is in flight the member heartbeats,
 * and it stops waiting for the write once it no longer owns the batch (src/pipeline/hold.ts). Returns
 * the number written, or null when it gave up because of shutdown or a rebalance (offsets then
 * stay uncommitted: nothing is lost).
 */
interface BatchWrite<E extends EntityTopic> {
  opts: EntityConsumerOptions<E>;
  storm: StormLog;
  /** Where the records given up on are collected, to be dead-lettered before the commit. */
  dead: DeadLetter[];
  /** Where the records that wait on are collected, to be parked before the commit. */
  parked: ParkedRecord[];
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

/** The records free to be written: those about a subject with records parked already park behind them, in the order read. */
async function parkBehindParked<E extends EntityTopic>(
  w: BatchWrite<E>,
  records: Rec<EventKinds[E]>[],
): Promise<Rec<EventKinds[E]>[] | null> {
  const lot = w.opts.parking;
  if (!lot || records.length === 0) return records;
  const subjects = [...new Set(records.map((r) => subjectOf(r.item)))];
  const behind = await retrying(w, () => lot.waiting(w.batch.topic, subjects));
  if (behind === null) return null;
  if (behind.size === 0) return records;
  const expiresAt = Date.now() + (w.opts.retryForMs ?? RETRY_FOR_MS);
  const free: Rec<EventKinds[E]>[] = [];
  for (const r of records) {
    const subject = subjectOf(r.item);
    if (behind.has(subject))
      w.parked.push(parkedRecord(w.batch, r, subject, `waits behind a parked record about ${subject}`, 0, expiresAt));
    else free.push(r);
  }
  return free;
}

function parkedRecord(batch: Batch, r: Rec<unknown>, subject: string, reason: string, attempts: number, expiresAt: number): ParkedRecord {
  const { key, value, offset, headers } = r.message;
  return {
    topic: batch.topic,
    partition: batch.partition,
    offset,
    subject,
    key,
    value,
    ...(headers ? { headers } : {}),
    reason,
    attempts,
    expiresAt,
  };
}

async function writePass<E extends EntityTopic>(
  { opts, storm, dead, parked, batch, control }: BatchWrite<E>,
  records: Rec<EventKinds[E]>[],
): Promise<number | null> {
  const retryForMs = opts.retryForMs ?? RETRY_FOR_MS;
  const waitMs = opts.parking ? 0 : retryForMs;
  // the wait for a late user or product starts when one is first missing, not while PostgreSQL is down
  let deadline: number | null = null;
  const sink: Sink<E> = (items, source) => whileOwned(opts.sink(items, source), control);
  let pending = records;
  let written = 0;
  let failures = 0;
  let rounds = 0;
  let waits = 0;
  while (pending.length > 0) {
    if (!control.owned()) return null;
    let outcome: Outcome<EventKinds[E]>;
    const tried = Date.now();
    try {
      outcome = await writeIsolating(sink, batch.partition, pending, ++rounds);
      failures = 0;
    } catch (err) {
      if (err instanceof BatchReleased) return null;
      await pauseAfterFailure({ storm, batch, control }, ++failures, err);
      if (deadline !== null) deadline += Date.now() - tried; // an outage does not eat the wait
      continue;
    }
    written += outcome.written;
    for (const r of outcome.rejected)
      dead.push(deadLetter(r.reason, batch, r.record.message, { sqlstate: r.sqlstate, attempts: r.attempts }));
    pending = outcome.retry.map((r) => r.record);
    if (pending.length === 0) break;
    deadline ??= Date.now() + waitMs;
    if (Date.now() >= deadline) {
      const expiresAt = deadline - waitMs + retryForMs;
      for (const r of outcome.retry)
        if (opts.parking) parked.push(parkedRecord(batch, r.record, subjectOf(r.record.item), r.reason, rounds, expiresAt));
        else dead.push(deadLetter(`${r.reason} within ${retryForMs} ms`, batch, r.record.message, { attempts: rounds }));
      break;
    }
    await sleepWithHeartbeat(backoffMs(++waits, POLICIES.referenceWait), control);
  }
  return written;
}

const WRITE = "write to PostgreSQL";
const READ_SCHEMAS = "reading the writers' schemas from the schema registry";

/** Runs `step` until it succeeds, pausing the partition between failures; null once the partition is no longer ours. */
async function retrying<T>(
  w: Pick<BatchWrite<EntityTopic>, "storm" | "batch" | "control">,
  step: () => Promise<T>,
  what = WRITE,
): Promise<T | null> {
  for (let failures = 1; ; failures++) {
    if (!w.control.owned()) return null;
    try {
      return await whileOwned(step(), w.control);
    } catch (err) {
      if (err instanceof BatchReleased) return null;
      await pauseAfterFailure(w, failures, err, what);
    }
  }
}

async function pauseAfterFailure(
  w: Pick<BatchWrite<EntityTopic>, "storm" | "batch" | "control">,
  failures: number,
  err: unknown,
  what = WRITE,
): Promise<void> {
  const backoff = Math.round(backoffMs(failures, POLICIES.batchWrite));
  const code = err instanceof SinkError && err.sqlstate ? ` [${err.sqlstate}]` : "";
  w.storm.note(
    `${describe(err)}${code}`,
    `${what} failed for ${w.batch.topic}/${w.batch.partition}; pausing the partition and retrying (${backoff} ms):`,
  );
  await sleepWithHeartbeat(backoff, w.control);
}

import { ShopstreamError } from "../errors.ts";
import type { EventKinds } from "../kafka/contract.ts";
import { stageOf, subjectOf } from "../kafka/envelope.ts";
import type { IncomingMessage } from "../kafka/port.ts";
import type { EntityTopic } from "../kafka/topics.ts";

// What the consumers write to (the sink contract), and one write round of records into it: the
// batch split into passes by subject, and a record the sink refuses for good isolated from the
// rest. The consumer runs rounds on what it reads, the parking lot on what waited.

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

/** A decoded record and the message it was read from. */
export interface Rec<T> {
  item: T;
  message: IncomingMessage;
}

export interface Outcome<T> {
  written: number;
  /** Not written yet, with why (the last reason becomes the dead letter's when the wait runs out). */
  retry: { record: Rec<T>; reason: string }[];
  rejected: { record: Rec<T>; reason: string; sqlstate?: string; attempts: number }[];
}

/**
 * The records as write passes in which every subject appears once: the first record of each id,
 * then the second, and so on (usually one pass). A repeat is then judged against the stored row,
 * as a repeat in a later batch would be: a resent copy changes nothing, another record under the
 * same id is refused. An order and its lifecycle steps share a subject: the order is stored before
 * its steps, and its steps go in the order of its path (stageOf), so two steps read the wrong way
 * round in one batch still apply, and none waits on a later pass.
 */
export function passesBySubject<T extends EventKinds[EntityTopic]>(records: Rec<T>[]): Rec<T>[][] {
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

/**
 * One write of `records`. When the sink refuses it for good (a value the database rejects), the
 * records are split in halves and each half written again, down to the single records that fail:
 * those are returned as rejected, every other record is stored in the same pass. A bad record
 * costs about 2·log2(batch) extra statements, and only in the batch that holds it. A transient
 * error (the database is away) is thrown.
 */
export async function writeIsolating<T extends EventKinds[EntityTopic]>(
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

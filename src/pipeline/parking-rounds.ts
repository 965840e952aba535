import { describe } from "../errors.ts";
import type { StormLog } from "../log.ts";
import { sleep } from "../retry.ts";
import { type DeadLetter, type DeadLetterTarget, deadLetter, deliverDeadLetters, noteDeadLetters } from "../kafka/dead-letter.ts";
import { type EventKinds, InvalidEvent } from "../kafka/contract.ts";
import { decode } from "../kafka/envelope.ts";
import type { ParkedRecord, ParkingLot, RoundResult } from "../db/parking.ts";
import type { IncomingMessage } from "../kafka/port.ts";
import { passesBySubject, type Rec, type Sink, writeIsolating } from "./sink.ts";
import type { EntityTopic } from "../kafka/topics.ts";
import type { SchemaReader } from "../schemas/reader.ts";

// Records that wait for what they reference (docs/design.md, "Faults"). A consumer parks such a
// record as soon as a write says it must wait, with its raw key, value and headers, and the
// batch's other records are stored and its offsets committed. A record read later about a parked subject
// parks behind it, so an order's steps never overtake the order. Every consumer process retries
// the parked records of its topic once a second; what is stored leaves the lot, what waits longer
// than the wait allows becomes a dead letter with the reason it waited for.

export interface ParkedRetryOptions<E extends EntityTopic> {
  lot: ParkingLot;
  entity: E;
  topic: string;
  sink: Sink<E>;
  deadLetters: DeadLetterTarget;
  storm: StormLog;
  /** How long a record may wait in all before it is dead-lettered. */
  retryForMs: number;
  everyMs?: number;
  /** Reads values framed for a schema registry (a registry away fails the round, which is tried again). */
  schemas?: SchemaReader;
  /** After each round: records it stored and dead-lettered, and how many are parked now. */
  onRound?(info: { written: number; dlq: number; parked: number }): void;
}

const ROUND_LIMIT = 2000;
/** How long a round waits for its dead letters to be acknowledged before it leaves them parked for the next. */
const ROUND_DEAD_LETTER_MS = 10_000;
/** How long stop() waits for a round in flight. */
const STOP_WAIT_MS = 2000;

/** Retries the topic's parked records every `everyMs` until stopped. */
export function retryParked<E extends EntityTopic>(opts: ParkedRetryOptions<E>): { stop(): Promise<void> } {
  const { lot, topic, storm } = opts;
  let stopped = false;
  let wake = () => {};
  let outageSince: number | null = null;
  const loop = (async () => {
    while (!stopped) {
      await Promise.race([sleep(opts.everyMs ?? 1000), new Promise<void>((r) => (wake = r))]);
      if (stopped) break;
      try {
        let written = 0;
        let dlq = 0;
        await lot.retry(topic, ROUND_LIMIT, async (rows) => {
          const r = await retryRound(opts, rows, () => !stopped);
          written = r.written;
          dlq = r.dlq;
          return r;
        });
        if (outageSince !== null) {
          await lot.extend(topic, Date.now() - outageSince);
          outageSince = null;
        }
        opts.onRound?.({ written, dlq, parked: await lot.count(topic) });
      } catch (err) {
        outageSince ??= Date.now();
        storm.note(describe(err), `cannot retry the parked records of ${topic} (trying again):`);
      }
    }
  })();
  return {
    async stop() {
      stopped = true;
      wake();
      // a round waiting on a database that hangs is not waited for: it settles nothing until it
      // commits, and its transaction ends with its connection
      await Promise.race([loop, sleep(STOP_WAIT_MS)]);
    },
  };
}

async function retryRound<E extends EntityTopic>(
  opts: ParkedRetryOptions<E>,
  rows: ParkedRecord[],
  running: () => boolean,
): Promise<RoundResult & { written: number; dlq: number }> {
  const now = Date.now();
  const settled: ParkedRecord[] = [];
  const waiting: { row: ParkedRecord; reason: string }[] = [];
  const dead: DeadLetter[] = [];
  let written = 0;
  await opts.schemas?.prepare(rows.map((r) => r.value));
  for (const [partition, list] of byPartition(rows)) {
    const source = { topic: opts.topic, partition };
    const rowOf = new Map<IncomingMessage, ParkedRecord>();
    const records: Rec<EventKinds[E]>[] = [];
    for (const row of list) {
      const message: IncomingMessage = {
        key: row.key,
        value: row.value,
        offset: row.offset,
        ...(row.headers ? { headers: row.headers } : {}),
      };
      rowOf.set(message, row);
      try {
        records.push({ item: decode(opts.entity, row.value, opts.schemas).data, message });
      } catch (err) {
        // it decoded when it was parked: only a change of schema between versions lands here
        if (!(err instanceof InvalidEvent)) throw err;
        dead.push(deadLetter(err.message, source, message, { attempts: row.attempts }));
        settled.push(row);
      }
    }
    for (const pass of passesBySubject(records)) {
      const outcome = await writeIsolating(opts.sink, partition, pass, 1);
      const left = new Set<IncomingMessage>();
      for (const r of outcome.rejected) {
        left.add(r.record.message);
        const row = rowOf.get(r.record.message) as ParkedRecord;
        dead.push(deadLetter(r.reason, source, r.record.message, { sqlstate: r.sqlstate, attempts: row.attempts + r.attempts }));
        settled.push(row);
      }
      for (const r of outcome.retry) {
        left.add(r.record.message);
        const row = rowOf.get(r.record.message) as ParkedRecord;
        if (row.expiresAt > now) waiting.push({ row, reason: r.reason });
        else {
          dead.push(deadLetter(`${r.reason} within ${opts.retryForMs} ms`, source, r.record.message, { attempts: row.attempts + 1 }));
          settled.push(row);
        }
      }
      for (const r of pass)
        if (!left.has(r.message)) {
          settled.push(rowOf.get(r.message) as ParkedRecord);
          written++;
        }
    }
  }
  if (dead.length > 0) {
    const until = Date.now() + ROUND_DEAD_LETTER_MS;
    const control = { owned: () => running() && Date.now() < until, heartbeat: async () => {} };
    // acknowledged before the rows leave the lot: a dead letter is never lost
    if (!(await deliverDeadLetters(opts.deadLetters, dead, control, opts.storm)))
      throw new Error(`dead letters of parked records not acknowledged within ${ROUND_DEAD_LETTER_MS / 1000} s`);
    noteDeadLetters(opts.storm, dead, `${opts.topic} (parked)`);
  }
  return { settled, waiting, written, dlq: dead.length };
}

function byPartition(rows: ParkedRecord[]): Map<number, ParkedRecord[]> {
  const out = new Map<number, ParkedRecord[]>();
  for (const r of rows) {
    const list = out.get(r.partition);
    if (list) list.push(r);
    else out.set(r.partition, [r]);
  }
  return out;
}

import { type Db, withDb } from "./bounded.ts";
import type { Sql } from "./client.ts";

// The parked_records table (migration 007): records that wait for what they reference, kept
// with their raw key and value until they are stored or given up on: the parking lot the orders
// consumers use (src/pipeline/parking-rounds.ts). On a BoundedPool (the consumers' own) every use has its
// deadline, a retry round included: a database that hangs fails it instead of holding a stop.

export interface ParkedRecord {
  topic: string;
  partition: number;
  /** Decimal string: Kafka offsets are 64-bit. */
  offset: string;
  /** What it is about (subjectOf): the order's id for an order and for its steps. */
  subject: string;
  key: Buffer | null;
  value: Buffer | null;
  /** The record's headers in order (a repeated key twice). */
  headers?: (readonly [key: string, value: Buffer | null])[];
  reason: string;
  /** Write rounds it took part in. */
  attempts: number;
  /** Epoch ms after which it is given up on (dead-lettered with its reason) unless stored before. */
  expiresAt: number;
}

/** How a retry round settled the records it took: stored or dead-lettered (they leave), or still waiting (with the latest reason). */
export interface RoundResult {
  settled: readonly ParkedRecord[];
  waiting: readonly { row: ParkedRecord; reason: string }[];
}

/** Where the orders consumers park records (src/pipeline/parking-rounds.ts): this table. */
export interface ParkingLot {
  /** Which of `subjects` have records parked in `topic`: a record read later about them parks behind them. */
  waiting(topic: string, subjects: readonly string[]): Promise<Set<string>>;
  /** Parks the records; one parked already (its batch read again after a crash) stays as it was. */
  park(records: readonly ParkedRecord[]): Promise<void>;
  /** One round over up to `limit` parked records of `topic`, a subject's together in offset order; settled as `round` says, or not at all when it throws. Returns how many it took. */
  retry(topic: string, limit: number, round: (rows: ParkedRecord[]) => Promise<RoundResult>): Promise<number>;
  /** Moves every deadline of `topic` `ms` later: the time the database was away is not spent waiting. */
  extend(topic: string, ms: number): Promise<void>;
  count(topic: string): Promise<number>;
}

export function parkingLot(db: Db): ParkingLot {
  const using = <T>(what: string, work: (sql: Sql) => Promise<T>) => withDb(db, `${what} of the parking lot`, work);
  return {
    async waiting(topic: string, subjects: readonly string[]): Promise<Set<string>> {
      if (subjects.length === 0) return new Set();
      // the subjects as one JSON document: an array parameter sent on a fresh connection, before
      // postgres.js has fetched the server's array types, arrives untyped and the look fails once
      const rows = await using(
        "a look",
        (sql) => sql<{ subject: string }[]>`
          select distinct subject from parked_records
          where topic = ${topic} and subject in (select jsonb_array_elements_text(${sql.json(subjects as string[])}::jsonb))`,
      );
      return new Set(rows.map((r) => r.subject));
    },

    async park(rows: readonly ParkedRecord[]): Promise<void> {
      if (rows.length === 0) return;
      await using(
        "the parking",
        (sql) => sql`
        insert into parked_records ${sql(rows.map((r) => toDb(sql, r)))}
        on conflict do nothing`,
      );
    },

    // the rows stay locked for the round (another process's round skips them) and are settled in
    // the same transaction: when the round throws, nothing is
    async retry(topic: string, limit: number, round: (rows: ParkedRecord[]) => Promise<RoundResult>): Promise<number> {
      return using("a retry round", (sql) =>
        sql.begin(async (tx) => {
          const rows = (
            await tx<DbRow[]>`
            select topic, partition, "offset"::text as "offset", subject, key, value, headers, reason, attempts, expires_at
            from parked_records where topic = ${topic}
            order by subject, partition, "offset" limit ${limit} for update skip locked`
          ).map(fromDb);
          if (rows.length === 0) return 0;
          const { settled, waiting } = await round(rows);
          if (settled.length > 0)
            await tx`
            delete from parked_records p
            using unnest(${tx.array(settled.map((r) => r.partition))}::int[], ${tx.array(settled.map((r) => r.offset))}::bigint[]) as s(partition, "offset")
            where p.topic = ${topic} and p.partition = s.partition and p."offset" = s."offset"`;
          if (waiting.length > 0)
            await tx`
            update parked_records p set attempts = p.attempts + 1, reason = w.reason
            from unnest(${tx.array(waiting.map((w) => w.row.partition))}::int[], ${tx.array(waiting.map((w) => w.row.offset))}::bigint[],
                        ${tx.array(waiting.map((w) => w.reason))}::text[]) as w(partition, "offset", reason)
            where p.topic = ${topic} and p.partition = w.partition and p."offset" = w."offset"`;
          return rows.length;
        }),
      );
    },

    async extend(topic: string, ms: number): Promise<void> {
      await using(
        "the deadlines",
        (sql) => sql`update parked_records set expires_at = expires_at + ${ms} * interval '1 millisecond' where topic = ${topic}`,
      );
    },

    async count(topic: string): Promise<number> {
      const [row] = await using(
        "the count",
        (sql) => sql<{ n: number }[]>`select count(*)::int as n from parked_records where topic = ${topic}`,
      );
      return row?.n ?? 0;
    },
  };
}

type DbRow = Omit<ParkedRecord, "expiresAt" | "headers"> & { expires_at: Date; headers: [string, string | null][] | null };

function toDb(sql: Sql, r: ParkedRecord) {
  return {
    topic: r.topic,
    partition: r.partition,
    offset: r.offset,
    subject: r.subject,
    key: r.key,
    value: r.value,
    // a header's value is bytes: kept as base64 in the json column
    headers: r.headers ? sql.json(r.headers.map(([k, v]) => [k, v === null ? null : v.toString("base64")])) : null,
    reason: r.reason,
    attempts: r.attempts,
    expires_at: new Date(r.expiresAt),
  };
}

function fromDb(r: DbRow): ParkedRecord {
  const { expires_at, headers, ...rest } = r;
  const parked: ParkedRecord = { ...rest, expiresAt: expires_at.getTime() };
  if (headers) parked.headers = headers.map(([k, v]) => [k, v === null ? null : Buffer.from(v, "base64")] as const);
  return parked;
}

/** Records waiting in the lot, per topic (for the metrics). */
export async function parkedByTopic(sql: Sql): Promise<{ topic: string; n: number }[]> {
  return [...(await sql<{ topic: string; n: number }[]>`select topic, count(*)::int as n from parked_records group by topic`)];
}

import { peakRssMb } from "../lib/proc.ts";

// The harness hands each child process its job as JSON in BENCH_JOB; the child answers with one
// "RESULT {json}" line on stdout (plus its own peak RSS) and exits.

export interface ProducerJob {
  mode: "batching" | "naive";
  count: number;
  seed: string;
  topicPrefix: string;
  cachePrefix: string;
  maxBatch?: number;
  lingerMs?: number;
  compression?: "none" | "gzip";
  /** Orders per second to generate at; absent: as fast as possible. */
  rate?: number;
  /** FORMAT (the producer reads it from its environment too): only named here for the record. */
  format?: string;
  /** Publish the sessions behind each order on the clicks topic too, as `--clicks` does. */
  clicks?: boolean;
}

export interface ProducerResult {
  count: number;
  failed: number;
  /** first order generated → last acknowledgement */
  seconds: number;
  tps: number;
  idsMd5: string;
  cpuSeconds: number;
  /** Mean bytes of a record's value as sent. */
  valueBytes?: number;
  /** With clicks: the page events sent (and acknowledged), and the users who signed up in them. */
  clicks?: number;
  signUps?: number;
  /** Bytes the topic's logs took on disk across the cluster's replicas, when the brokers are this machine's. */
  diskBytes?: number | null;
  peakRssMb?: number;
}

export interface DirectJob {
  count: number;
  seed: string;
  cachePrefix: string;
  databaseUrl: string;
  maxBatch: number;
  /** Writers in parallel, each on its own connection and its own share of users (like 3 partitions). */
  lanes: number;
  /** Orders per second to generate at; absent: as fast as possible. */
  rate?: number;
}

export interface DirectResult {
  count: number;
  /** first order generated → last batch written */
  seconds: number;
  tps: number;
  batches: number;
  /** Sum over batches of the time insertOrders took. */
  writeMs: number;
  idsMd5: string;
  cpuSeconds: number;
  peakRssMb?: number;
}

/** The fingerprint orderFingerprint() computes in PostgreSQL, over the ids a child generated. */
export function md5OfIds(ids: string[]): string {
  // JS sorts by UTF-16 code unit, which for these ASCII ids is PostgreSQL's "C" collation
  return new Bun.CryptoHasher("md5").update(ids.sort().join(",")).digest("hex");
}

export interface WritesJob {
  databaseUrl: string;
  cachePrefix: string;
  seed: string;
  rows: number;
  maxBatch: number;
  lanes: number;
  rounds: number;
}

export interface WritesResult {
  /** rows/s per method and round */
  samples: Record<"copy" | "unnest" | "multirow" | "insertOrders", number[]>;
  /** CPU (PostgreSQL backends + the writing process) per row, µs, per method and round */
  cpuUsPerRow: Record<"copy" | "unnest" | "multirow" | "insertOrders", number[]>;
  peakRssMb?: number;
}

/** Waits until order `i` is due at `rate` orders/s from `started` (in steps of a few ms, not per order). */
export async function pace(started: number, i: number, rate: number): Promise<void> {
  const wait = started + (i / rate) * 1000 - performance.now();
  if (wait > 4) await Bun.sleep(wait);
}

export function jobFromEnv<T>(): T {
  const raw = process.env.BENCH_JOB;
  if (!raw) throw new Error("BENCH_JOB is not set: this file is started by bench/index.ts");
  return JSON.parse(raw) as T;
}

export function finish<T extends { peakRssMb?: number }>(result: T): never {
  result.peakRssMb = peakRssMb(process.pid) ?? undefined;
  console.log(`RESULT ${JSON.stringify(result)}`);
  process.exit(0);
}

export interface DrainJob {
  topic: string;
  group: string;
  /** Records to read before stopping (the topic's whole content). */
  count: number;
}

export interface DrainResult {
  count: number;
  /** first batch → last record */
  seconds: number;
  recordsPerSec: number;
  cpuSeconds: number;
  peakRssMb?: number;
}

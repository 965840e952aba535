import { existsSync } from "node:fs";
import { join } from "node:path";
import { ensureTopics } from "../src/kafka/client.ts";
import { topicNames } from "../src/kafka/topics.ts";
import { cloneDatabase, dropDatabase } from "./lib/db.ts";
import { spawnChild } from "./lib/proc.ts";
import type { WriteMethod } from "./lib/writes.ts";
import type { WritesJob, WritesResult } from "./procs/job.ts";
import { type BenchContext, bun, topicPrefixOf } from "./tps.ts";

// The references measured in the same run: Apache Kafka's ProducerPerformance on the same cluster,
// redis-benchmark on the same hash, and PostgreSQL's own bulk paths for the same rows.

const ROOT = join(import.meta.dir, "..");

export interface PerfResult {
  records: number;
  recordsPerSec: number;
  mbPerSec: number;
  avgLatencyMs: number;
  p50Ms: number;
  p99Ms: number;
}

/** Kafka's ProducerPerformance as its users run it: with its defaults, and tuned for throughput. */
export const PERF_SETTINGS = {
  defaults: {},
  // what a batching producer is tuned to: 1 MB batches that wait up to 5 ms to fill
  tuned: { "batch.size": "1048576", "linger.ms": "5" },
} as const;

/** kafka-producer-perf-test (org.apache.kafka.tools.ProducerPerformance) from the jars infra.sh resolved. */
export async function runProducerPerformance(
  ctx: BenchContext,
  records: number,
  recordSize: number,
  props: Record<string, string> = {},
): Promise<PerfResult> {
  const names = topicNames(`${ctx.topicPrefix}pp${++ctx.phases}.`);
  await ensureTopics(ctx.admin, names, { partitions: ctx.config.kafkaPartitions });
  const child = spawnChild("ProducerPerformance", [
    ...java(),
    "org.apache.kafka.tools.ProducerPerformance",
    "--topic",
    names.topic("orders"),
    "--num-records",
    String(records),
    "--record-size",
    String(recordSize),
    "--throughput",
    "-1",
    "--producer-props",
    `bootstrap.servers=${ctx.config.kafkaBrokers.join(",")}`,
    "acks=all",
    ...Object.entries(props).map(([k, v]) => `${k}=${v}`),
  ]);
  const code = await child.proc.exited;
  await child.stop(0);
  // the topic goes at once: the brokers should not carry it into the next phase
  await ctx.admin.deleteTopics((await ctx.admin.listTopics()).filter((t) => t.startsWith(topicPrefixOf(names))));
  const m =
    /(\d+) records sent, ([\d.]+) records\/sec \(([\d.]+) MB\/sec\), ([\d.]+) ms avg latency, [\d.]+ ms max latency, (\d+) ms 50th, \d+ ms 95th, (\d+) ms 99th/.exec(
      child.output(),
    );
  if (code !== 0 || !m) throw new Error(`ProducerPerformance failed (exit ${code}):\n${child.output().slice(-2000)}`);
  return {
    records: Number(m[1]),
    recordsPerSec: Number(m[2]),
    mbPerSec: Number(m[3]),
    avgLatencyMs: Number(m[4]),
    p50Ms: Number(m[5]),
    p99Ms: Number(m[6]),
  };
}

export interface ConsumerPerfResult {
  records: number;
  /** Records per second while fetching (the group's join excluded). */
  recordsPerSec: number;
  mbPerSec: number;
}

/** kafka-consumer-perf-test (org.apache.kafka.tools.ConsumerPerformance): one consumer of a new group reads `records` of `topic`. */
export async function runConsumerPerformance(ctx: BenchContext, topic: string, records: number): Promise<ConsumerPerfResult> {
  const child = spawnChild("ConsumerPerformance", [
    ...java(),
    "org.apache.kafka.tools.ConsumerPerformance",
    "--bootstrap-server",
    ctx.config.kafkaBrokers.join(","),
    "--topic",
    topic,
    "--messages",
    String(records),
    "--group",
    `${ctx.topicPrefix}consumer-perf-${++ctx.phases}`,
    "--timeout",
    "60000",
  ]);
  const code = await child.proc.exited;
  await child.stop(0);
  // start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec
  const line = child
    .output()
    .split("\n")
    .find((l) => /^\d{4}-\d\d-\d\d .*, *[\d.]+ *, *[\d.]+ *, *\d+ *,/.test(l));
  const f = line?.split(",").map((c) => c.trim());
  if (code !== 0 || !f || f.length < 10) throw new Error(`ConsumerPerformance failed (exit ${code}):\n${child.output().slice(-2000)}`);
  return { records: Number(f[4]), recordsPerSec: Number(f[9]), mbPerSec: Number(f[8]) };
}

/** `java … -cp <Kafka's jars>` with the tools' quiet logging, as infra.sh resolved them. */
function java(): string[] {
  const cp = Bun.spawnSync(["bash", join(ROOT, "deploy/local/infra.sh"), "kafka-classpath"], { stderr: "pipe" });
  const classpath = cp.stdout.toString().trim().split("\n").pop() ?? "";
  if (cp.exitCode !== 0 || !classpath) throw new Error(`infra.sh kafka-classpath failed: ${cp.stderr.toString()}`);
  const home = process.env.SHOPSTREAM_HOME ?? join(ROOT, ".local");
  const log4j = join(home, "kafka/tools-log4j.properties");
  return ["java", ...(existsSync(log4j) ? [`-Dlog4j.configuration=file:${log4j}`] : []), "-Xmx512m", "-cp", classpath];
}

export interface RedisBenchResult {
  clients: number;
  requestsPerSec: number;
  p50Ms: number | null;
}

/** redis-benchmark HGETALL on the run's own `cache:users` hash (1,000 fields of user JSON). */
export async function runRedisBenchmark(redisUrl: string, key: string, requests: number, clients = 1): Promise<RedisBenchResult> {
  const url = new URL(redisUrl);
  const child = spawnChild("redis-benchmark", [
    "redis-benchmark",
    "-h",
    url.hostname,
    "-p",
    url.port || "6379",
    "-c",
    String(clients),
    "-n",
    String(requests),
    "-q",
    "HGETALL",
    key,
  ]);
  const code = await child.proc.exited;
  await child.stop(0);
  const out = child.output().replace(/\r/g, "\n");
  const m = /([\d.]+) requests per second(?:, p50=([\d.]+) msec)?/.exec(
    out
      .split("\n")
      .filter((l) => l.includes("requests per second"))
      .pop() ?? "",
  );
  if (code !== 0 || !m) throw new Error(`redis-benchmark failed (exit ${code}): ${out.slice(-500)}`);
  return { clients, requestsPerSec: Number(m[1]), p50Ms: m[2] ? Number(m[2]) : null };
}

// ---------------------------------------------------------------------------------------------

export interface WriteRefs {
  rows: number;
  maxBatch: number;
  lanes: number;
  /** rows/s per method: the best of the rounds */
  rowsPerSec: Record<WriteMethod, number>;
  samples: Record<WriteMethod, number[]>;
  /** CPU per row (PostgreSQL backends + the writing process), µs: the least of the rounds */
  cpuUsPerRow: Record<WriteMethod, number>;
  peakRssMb: number;
}

/** Every write path for the same rows, on a fresh clone of the base database, in a process of its own. */
export async function runWriteRefs(
  ctx: BenchContext,
  opts: { rows: number; maxBatch: number; lanes: number; rounds: number },
): Promise<WriteRefs> {
  const name = `${ctx.baseDb}_refs${++ctx.phases}`;
  ctx.databases.push(name);
  const db = await cloneDatabase(ctx.config.databaseUrl, ctx.baseDb, name, 1);
  try {
    await db.sql.end();
    const job: WritesJob = { databaseUrl: db.url, cachePrefix: ctx.cachePrefix, seed: `${ctx.seed}:refs`, ...opts };
    const child = spawnChild("write-paths", bun("bench/procs/writes.ts"), { BENCH_JOB: JSON.stringify(job) });
    const r = await child.result<WritesResult>();
    const best = (m: WriteMethod) => Math.max(...r.samples[m]);
    const cpu = (m: WriteMethod) => Math.min(...r.cpuUsPerRow[m]);
    return {
      rows: opts.rows,
      maxBatch: opts.maxBatch,
      lanes: opts.lanes,
      samples: r.samples,
      peakRssMb: r.peakRssMb ?? 0,
      cpuUsPerRow: { copy: cpu("copy"), unnest: cpu("unnest"), multirow: cpu("multirow"), insertOrders: cpu("insertOrders") },
      rowsPerSec: { copy: best("copy"), unnest: best("unnest"), multirow: best("multirow"), insertOrders: best("insertOrders") },
    };
  } finally {
    await dropDatabase(db.url);
    ctx.databases = ctx.databases.filter((d) => d !== name);
  }
}

import { RegistryClient } from "../src/schemas/registry.ts";
import type Redis from "ioredis";
import { join } from "node:path";
import { connectRedis, deleteByPrefix } from "../src/cache/client.ts";
import { cacheKeys } from "../src/cache/keys.ts";
import { reloadCache } from "../src/cache/reload.ts";
import { readSnapshot } from "../src/cache/snapshot.ts";
import { snapshotKey } from "../src/metrics/publish.ts";
import { type Config, type KafkaClientName, loadConfig, serviceRuntimeEnv } from "../src/config.ts";
import type { Format } from "../src/schema-formats.ts";
import { connectAdmin, createKafkaClient, ensureTopics } from "../src/kafka/client.ts";
import type { KafkaAdmin, KafkaClient } from "../src/kafka/port.ts";
import { topicNames, type TopicNames } from "../src/kafka/topics.ts";
import {
  backendPids,
  cloneDatabase,
  createBaseDatabase,
  dropDatabase,
  databaseUrl,
  endToEnd,
  orderFingerprint,
  type BenchDatabase,
  type Latency,
} from "./lib/db.ts";
import {
  brokerPids,
  CLOCK_TICKS,
  CpuMeter,
  type CpuShares,
  cpuTicks,
  exitedCpuSeconds,
  peakRssMb,
  spawnChild,
  tail,
  type Child,
} from "./lib/proc.ts";
import { topicDiskBytes } from "./lib/infra.ts";
import { generateOrders, recordSizes } from "./lib/orders.ts";
import { Progress } from "./lib/progress.ts";
import type { MicroResult } from "./micro.ts";
import type { DirectJob, DirectResult, DrainJob, DrainResult, ProducerJob, ProducerResult } from "./procs/job.ts";

// The TPS harness: Kafka ON (producer process → 3-broker Kafka → 3 order-consumer processes →
// PostgreSQL) and Kafka OFF (the same generator writing straight to PostgreSQL), each on a fresh
// clone of one seeded database, under topic and cache prefixes of this run only.

const ROOT = join(import.meta.dir, "..");

export interface BenchOptions {
  /** Catalogue seeded into the base database (the cache holds 1,000 of each either way). */
  users?: number;
  products?: number;
  seed?: string;
  /** No progress lines (the smoke test). */
  quiet?: boolean;
}

export interface BenchContext {
  runId: string;
  config: Config;
  seed: string;
  baseDb: string;
  cachePrefix: string;
  topicPrefix: string;
  client: KafkaClient;
  admin: KafkaAdmin;
  redis: Redis;
  quiet: boolean;
  brokers: number[];
  /** Databases and topics made by this run, removed by closeBench. */
  databases: string[];
  /** Topics already deleted (metadata may still list them for a moment). */
  deleted: Set<string>;
  phases: number;
}

export async function openBench(opts: BenchOptions = {}): Promise<BenchContext> {
  const config = loadConfig();
  const runId = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  const seed = opts.seed ?? "bench";
  const baseDb = `shopstream_bench_${runId}`;
  const cachePrefix = `bench:${runId}:`;
  const redis = connectRedis(config.redisUrl);
  const client = await createKafkaClient(config, `bench-${runId}`);
  const admin = await connectAdmin(client);
  const ctx: BenchContext = {
    runId,
    config,
    seed,
    baseDb,
    cachePrefix,
    topicPrefix: `bench.${runId}.`,
    client,
    admin,
    redis,
    quiet: opts.quiet ?? false,
    brokers: brokerPids(),
    databases: [baseDb],
    deleted: new Set(),
    phases: 0,
  };
  const base = await createBaseDatabase(config.databaseUrl, baseDb, {
    users: opts.users ?? 10_000,
    products: opts.products ?? 20_000,
    seed,
  });
  try {
    await reloadCache(base.sql, redis, cacheKeys(cachePrefix));
  } finally {
    await base.sql.end(); // a template database must have no connections
  }
  return ctx;
}

/** Deletes everything the run made: topics, consumer groups, cache keys, databases. */
export async function closeBench(ctx: BenchContext): Promise<void> {
  const topics = (await ctx.admin.listTopics()).filter((t) => t.startsWith(ctx.topicPrefix) && !ctx.deleted.has(t));
  await ctx.admin.deleteTopics(topics).catch(() => {});
  const groups = (await ctx.admin.listGroups()).filter((g) => g.startsWith(ctx.topicPrefix));
  await ctx.admin.deleteGroups(groups).catch(() => {});
  await ctx.admin.close();
  await new RegistryClient(ctx.config.schemaRegistryUrl).deleteSubjects(ctx.topicPrefix).catch(() => {});
  await deleteByPrefix(ctx.redis, ctx.cachePrefix);
  ctx.redis.disconnect();
  for (const db of ctx.databases.reverse()) await dropDatabase(databaseUrl(ctx.config.databaseUrl, db)).catch(() => {});
}

export async function phaseDatabase(ctx: BenchContext, label: string, max = 4): Promise<BenchDatabase> {
  const name = `${ctx.baseDb}_${label}${++ctx.phases}`;
  ctx.databases.push(name);
  return cloneDatabase(ctx.config.databaseUrl, ctx.baseDb, name, max);
}

export async function phaseTopics(ctx: BenchContext, label: string): Promise<TopicNames> {
  const names = topicNames(`${ctx.topicPrefix}${label}${++ctx.phases}.`);
  await ensureTopics(ctx.admin, names, { partitions: ctx.config.kafkaPartitions });
  return names;
}

/**
 * A Bun child running `file`. `profileDir` (or BENCH_CPU_PROF=<dir> for every child) makes it write
 * a CPU profile there as markdown (Bun's --cpu-prof-md) when it exits.
 */
export function bun(file: string, args: string[] = [], profileDir = process.env.BENCH_CPU_PROF): string[] {
  const prof = profileDir ? ["--cpu-prof-md", `--cpu-prof-dir=${profileDir}`] : [];
  const extra = process.env.BENCH_BUN_FLAGS ? process.env.BENCH_BUN_FLAGS.split(" ") : [];
  return [process.execPath, ...prof, ...extra, "run", join(ROOT, file), ...args];
}

// ---------------------------------------------------------------------------------------------

export interface ProducerSettings {
  maxBatch?: number;
  lingerMs?: number;
  compression?: "none" | "gzip";
  /** How the producer writes (FORMAT; the consumers read every format): JSON unless told. */
  format?: Format;
  /** The sessions behind each order on the clicks topic too, landed by three clicks consumers (`--clicks`). */
  clicks?: boolean;
}

/** Where the producer and the first order consumer of a Kafka ON phase write their CPU profiles. */
export interface ProfileDirs {
  producer: string;
  consumer: string;
}

export interface PhaseResult {
  mode: "on" | "off";
  count: number;
  /** CPU of the producing process (ON) or the direct writer (OFF) per order, µs. */
  producerCpuUsPerOrder: number;
  /** Producer side: first order generated → last acknowledgement (OFF: last batch written). */
  producerTps: number;
  e2e: Latency;
  /** Every generated order is in PostgreSQL exactly once (same count, same ids, nothing dead-lettered). */
  exactlyOnce: boolean;
  rows: number;
  distinctIds: number;
  /** Rows stored with their next lifecycle step (the consumers plan one for every new order). */
  scheduled: number;
  /** The sorted ids in PostgreSQL hash to the same md5 as the sorted ids the producer generated. */
  idsMatch: boolean;
  dlq: number;
  /** Peak RSS per process of ours, MB. */
  rss: Record<string, number>;
  /** CPU seconds of each consumer process over its whole life (Kafka ON). */
  consumerCpuSeconds: Record<string, number>;
  cpu: CpuShares;
  /** Batches written to PostgreSQL: how many, mean rows and mean write time per batch. */
  batches: BatchStats;
}

export interface BatchStats {
  count: number;
  meanRows: number;
  meanWriteMs: number;
  /** Rows each writing process wrote (Kafka ON: per consumer, by name). */
  rowsBy: Record<string, number>;
}

/** The consumers' own batch-size and write-time histograms, from the metrics snapshots they ship to Redis. */
async function consumerBatches(ctx: BenchContext, consumers: readonly Child[]): Promise<BatchStats> {
  let count = 0;
  let rows = 0;
  let seconds = 0;
  const rowsBy: Record<string, number> = {};
  for (const c of consumers) {
    const snapshot = await ctx.redis.get(snapshotKey(ctx.cachePrefix, c.name));
    if (!snapshot) continue;
    for (const m of JSON.parse(snapshot) as { values: { metricName?: string; value: number }[] }[]) {
      for (const v of m.values) {
        if (v.metricName === "shopstream_consumer_batch_size_count") count += v.value;
        if (v.metricName === "shopstream_consumer_batch_size_sum") {
          rows += v.value;
          rowsBy[c.name] = (rowsBy[c.name] ?? 0) + v.value;
        }
        if (v.metricName === "shopstream_db_write_seconds_sum") seconds += v.value;
      }
    }
  }
  // the next phase's consumers carry the same names: their figures must start from nothing
  await ctx.redis.del(...consumers.map((c) => snapshotKey(ctx.cachePrefix, c.name)));
  return { count, meanRows: count ? rows / count : 0, meanWriteMs: count ? (seconds * 1000) / count : 0, rowsBy };
}

/** Stops the phase's writing process if it still runs and drops the phase's database. */
export async function endPhase(ctx: BenchContext, db: BenchDatabase, writer: Child | null): Promise<void> {
  if (writer && writer.proc.exitCode === null) await writer.stop(1000);
  await db.drop();
  ctx.databases = ctx.databases.filter((d) => d !== db.name);
}

/** What every process standing for a service runs with: the client under test and the services' runtime settings. */
export function pipelineEnv(ctx: BenchContext, client: KafkaClientName, format: Format = "json"): Record<string, string> {
  return { KAFKA_CLIENT: client, FORMAT: format, ...serviceRuntimeEnv(ctx.config) };
}

/** Kafka ON: producer process → Kafka (acks=all, RF 3) → three `src/services/consumer.ts orders` → PostgreSQL. */
export async function runKafkaOn(
  ctx: BenchContext,
  client: KafkaClientName,
  count: number,
  settings: ProducerSettings = {},
  rate?: number,
  profile?: ProfileDirs,
): Promise<PhaseResult & { topic: string; producerCpuSeconds: number; clicks?: ClicksResult }> {
  const withClicks = settings.clicks === true;
  const db = await phaseDatabase(ctx, "on");
  const names = await phaseTopics(ctx, "on");
  const env = {
    ...pipelineEnv(ctx, client, settings.format),
    DATABASE_URL: db.url,
    TOPIC_PREFIX: topicPrefixOf(names),
    CACHE_PREFIX: ctx.cachePrefix,
    METRICS_PORT: "0",
  };
  const consumers = [1, 2, 3].map((i) =>
    spawnChild(`order-consumer-${i}`, bun("src/services/consumer.ts", ["orders"], i === 1 ? profile?.consumer : undefined), {
      ...env,
      INSTANCE: String(i),
    }),
  );
  const clickConsumers = withClicks
    ? [1, 2, 3].map((i) => spawnChild(`click-consumer-${i}`, bun("src/services/consumer.ts", ["clicks"]), { ...env, INSTANCE: String(i) }))
    : [];
  let producer: Child | null = null;
  const meter = new CpuMeter(async () => ({
    brokers: ctx.brokers,
    postgres: await backendPids(db.sql, [db.name]),
    producer: producer ? [producer.proc.pid] : [],
    consumers: [...consumers, ...clickConsumers].map((c) => c.proc.pid),
    harness: [process.pid],
  }));
  try {
    await waitForGroup(ctx.admin, names.group("orders"), consumers.length, consumers);
    if (withClicks) await waitForGroup(ctx.admin, names.group("clicks"), clickConsumers.length, clickConsumers);
    await meter.start();
    const job: ProducerJob = {
      mode: "batching",
      count,
      seed: `${ctx.seed}:on`,
      topicPrefix: topicPrefixOf(names),
      cachePrefix: ctx.cachePrefix,
      ...settings,
      ...(rate ? { rate } : {}),
    };
    const label = `Kafka ON (${client})${withClicks ? " with clicks" : ""}`;
    const progress = new Progress(rate ? `${label} at ${fmt(rate)}/s` : label, count, ctx.quiet);
    let acked = 0;
    let stored = 0;
    producer = spawnChild("producer", bun("bench/procs/producer.ts", [], profile?.producer), {
      ...pipelineEnv(ctx, client, settings.format),
      BENCH_JOB: JSON.stringify(job),
    });
    producer.onLine = (l) => {
      if (l.startsWith("PROGRESS ")) acked = Number(l.slice(9));
    };
    const poll = setInterval(async () => {
      stored = await countOrders(db).catch(() => stored);
      progress.update(stored, `acked ${fmt(acked)} · in PostgreSQL ${fmt(stored)}`);
    }, 500);
    let produced: ProducerResult;
    try {
      produced = await producer.result<ProducerResult>();
      meter.settle("producer", producer.proc.pid, exitedCpuSeconds(producer.proc));
      if (produced.failed > 0) throw new Error(`${produced.failed} orders were not acknowledged by Kafka`);
      stored = await waitForRows(db, count, consumers);
      if (withClicks) await waitForRows(db, produced.clicks ?? 0, clickConsumers, "click_events");
    } finally {
      clearInterval(poll);
    }
    // every event stored: the orders' own end to end span ends here for the clicks
    const clicksStoredAt = Date.now();
    const cpu = await meter.stop();
    const rss: Record<string, number> = { producer: produced.peakRssMb ?? 0 };
    const consumerCpuSeconds: Record<string, number> = {};
    for (const c of consumers) {
      rss[c.name] = peakRssMb(c.proc.pid) ?? 0;
      consumerCpuSeconds[c.name] = (cpuTicks(c.proc.pid) ?? 0) / CLOCK_TICKS;
    }
    const e2e = await endToEnd(db.sql);
    const fp = await orderFingerprint(db.sql);
    const dlq = (await ctx.admin.offsets(names.dlq("orders"))).reduce((s, p) => s + p.high, 0);
    const clicks = withClicks ? await clicksResult(ctx, db, names, produced, clicksStoredAt) : undefined;
    await Promise.all([...consumers, ...clickConsumers].map((c) => c.stop())); // each ships its metrics once more on the way out
    const batches = await consumerBatches(ctx, consumers);
    progress.finish(`${fmt(e2e.tps)} orders/s end to end`);
    return {
      mode: "on",
      topic: names.topic("orders"),
      producerCpuSeconds: produced.cpuSeconds,
      producerCpuUsPerOrder: (produced.cpuSeconds / count) * 1e6,
      count,
      producerTps: produced.tps,
      e2e,
      rows: fp.rows,
      distinctIds: fp.distinct,
      scheduled: fp.scheduled,
      idsMatch: fp.md5 === produced.idsMd5,
      dlq,
      rss,
      consumerCpuSeconds,
      cpu,
      batches,
      exactlyOnce: fp.rows === count && fp.distinct === count && fp.md5 === produced.idsMd5 && dlq === 0 && (clicks?.exactlyOnce ?? true),
      ...(clicks ? { clicks } : {}),
    };
  } finally {
    meter.cancel();
    await Promise.all([...consumers, ...clickConsumers].map((c) => c.stop()));
    await endPhase(ctx, db, producer);
  }
}

/** Kafka OFF: the same generator and batching, writing straight to PostgreSQL from one process. */
export async function runKafkaOff(
  ctx: BenchContext,
  count: number,
  batch: { maxBatch: number; lanes: number },
  rate?: number,
): Promise<PhaseResult> {
  const db = await phaseDatabase(ctx, "off");
  let writer: Child | null = null;
  const meter = new CpuMeter(async () => ({
    brokers: ctx.brokers,
    postgres: await backendPids(db.sql, [db.name]),
    "direct-writer": writer ? [writer.proc.pid] : [],
    harness: [process.pid],
  }));
  try {
    const job: DirectJob = {
      count,
      seed: `${ctx.seed}:off`,
      cachePrefix: ctx.cachePrefix,
      databaseUrl: db.url,
      ...batch,
      ...(rate ? { rate } : {}),
    };
    const progress = new Progress(rate ? `Kafka OFF at ${fmt(rate)}/s` : "Kafka OFF", count, ctx.quiet);
    await meter.start();
    writer = spawnChild("direct-writer", bun("bench/procs/direct.ts"), {
      ...pipelineEnv(ctx, ctx.config.kafkaClient),
      BENCH_JOB: JSON.stringify(job),
    });
    writer.onLine = (l) => {
      if (l.startsWith("PROGRESS ")) progress.update(Number(l.slice(9)), `in PostgreSQL ${fmt(Number(l.slice(9)))}`);
    };
    const done = await writer.result<DirectResult>();
    meter.settle("direct-writer", writer.proc.pid, exitedCpuSeconds(writer.proc));
    const cpu = await meter.stop();
    const e2e = await endToEnd(db.sql);
    const fp = await orderFingerprint(db.sql);
    progress.finish(`${fmt(e2e.tps)} orders/s end to end`);
    return {
      mode: "off",
      producerCpuUsPerOrder: (done.cpuSeconds / count) * 1e6,
      count,
      producerTps: done.tps,
      e2e,
      rows: fp.rows,
      distinctIds: fp.distinct,
      scheduled: fp.scheduled,
      idsMatch: fp.md5 === done.idsMd5,
      dlq: 0,
      cpu,
      batches: { count: done.batches, meanRows: done.count / done.batches, meanWriteMs: done.writeMs / done.batches, rowsBy: {} },
      rss: { "direct-writer": done.peakRssMb ?? 0 },
      consumerCpuSeconds: {},
      exactlyOnce: fp.rows === count && fp.distinct === count && fp.md5 === done.idsMd5,
    };
  } finally {
    meter.cancel();
    await endPhase(ctx, db, writer);
  }
}

/** The Kafka ON producer alone (fresh topics, nobody consuming): for the settings sweep. */
export async function runProducerOnly(
  ctx: BenchContext,
  client: KafkaClientName,
  count: number,
  settings: ProducerSettings,
): Promise<ProducerResult> {
  const names = await phaseTopics(ctx, "sweep");
  const job: ProducerJob = {
    mode: "batching",
    count,
    seed: `${ctx.seed}:sweep`,
    topicPrefix: topicPrefixOf(names),
    cachePrefix: ctx.cachePrefix,
    ...settings,
  };
  const env = { ...pipelineEnv(ctx, client, settings.format), BENCH_JOB: JSON.stringify(job) };
  const result = await spawnChild("producer", bun("bench/procs/producer.ts"), env).result<ProducerResult>();
  if (result.failed > 0) throw new Error(`${result.failed} orders were not acknowledged`);
  result.diskBytes = topicDiskBytes(names.topic("orders"));
  // the topic goes at once: a sweep writes a lot, and the brokers should not carry it into the next setting
  await ctx.admin.deleteTopics([names.topic("orders")]).catch(() => {});
  ctx.deleted.add(names.topic("orders"));
  return result;
}

/** The mitata micro-benchmarks (bench/micro.ts) in a child process; their report is printed as they finish. */
export async function runMicroChild(ctx: BenchContext): Promise<MicroResult> {
  const child = spawnChild("micro", bun("bench/procs/micro.ts"), {
    BENCH_JOB: JSON.stringify({ cachePrefix: ctx.cachePrefix }),
    ...(process.stdout.isTTY ? { FORCE_COLOR: "1" } : {}),
  });
  child.onLine = (l) => {
    if (!l.startsWith("RESULT ") && !ctx.quiet) console.log(l);
  };
  return child.result<MicroResult>();
}

/** The naive producer: one awaited send() per order, same topic layout, acks=all. */
export async function runNaiveProducer(ctx: BenchContext, client: KafkaClientName, count: number): Promise<ProducerResult> {
  const names = await phaseTopics(ctx, "naive");
  const job: ProducerJob = {
    mode: "naive",
    count,
    seed: `${ctx.seed}:naive`,
    topicPrefix: topicPrefixOf(names),
    cachePrefix: ctx.cachePrefix,
  };
  const child = spawnChild("naive-producer", bun("bench/procs/producer.ts"), {
    ...pipelineEnv(ctx, client),
    BENCH_JOB: JSON.stringify(job),
  });
  return child.result<ProducerResult>();
}

/** The client's consumer alone: one consumer of a new group reads `count` records of `topic` through the port, writing nothing. */
export async function runDrain(ctx: BenchContext, client: KafkaClientName, topic: string, count: number): Promise<DrainResult> {
  const job: DrainJob = { topic, group: `${ctx.topicPrefix}drain-${client}-${++ctx.phases}`, count };
  const child = spawnChild(`drain-${client}`, bun("bench/procs/drain.ts"), { ...pipelineEnv(ctx, client), BENCH_JOB: JSON.stringify(job) });
  return child.result<DrainResult>();
}

/** Mean encoded value and key size of the orders a run sends, for the reference tools. */
export async function sampleRecordSizes(ctx: BenchContext, n = 5_000): Promise<{ valueBytes: number; keyBytes: number }> {
  const snapshot = await readSnapshot(ctx.redis, cacheKeys(ctx.cachePrefix));
  return recordSizes(generateOrders(snapshot, `${ctx.seed}:sample`, n, ctx.config.producerTopN));
}

export function topicPrefixOf(names: TopicNames): string {
  return names.topic("orders").slice(0, -"orders".length);
}

// ---------------------------------------------------------------------------------------------

async function countOrders(db: BenchDatabase, table = "orders"): Promise<number> {
  const [row] = await db.sql.unsafe<{ n: number }[]>(`select count(*)::int as n from ${table}`);
  return row?.n ?? 0;
}

/** The clicks of a Kafka ON phase with clicks: all stored once, and the events per second end to end. */
export interface ClicksResult {
  events: number;
  signUps: number;
  stored: number;
  sessions: number;
  /** Orders and clicks: every record stored. */
  records: number;
  /** The first order generated → the last click stored (polled), s. */
  spanS: number;
  recordsPerSec: number;
  dlq: number;
  exactlyOnce: boolean;
}

async function clicksResult(
  ctx: BenchContext,
  db: BenchDatabase,
  names: TopicNames,
  produced: ProducerResult,
  storedAt: number,
): Promise<ClicksResult> {
  const [row] = await db.sql<{ stored: number; sessions: number; first: Date }[]>`
    select (select count(*)::int from click_events) as stored, (select count(*)::int from sessions) as sessions,
           (select min(created_at) from orders) as first`;
  const events = produced.clicks ?? 0;
  const signUps = produced.signUps ?? 0;
  const records = produced.count + events;
  const spanS = (storedAt - row!.first.getTime()) / 1000;
  const dlq = (await ctx.admin.offsets(names.dlq("clicks"))).reduce((s, p) => s + p.high, 0);
  return {
    events,
    signUps,
    stored: row!.stored,
    sessions: row!.sessions,
    records,
    spanS,
    recordsPerSec: spanS > 0 ? records / spanS : 0,
    dlq,
    exactlyOnce: row!.stored === events && dlq === 0,
  };
}

/**
 * Waits until `count` rows are in `table`; fails when a writer exits, or when nothing moves for 60 s
 * (`firstRowWithinMs` before the first row: a JVM engine starting beside a loaded run takes longer).
 */
export async function waitForRows(
  db: BenchDatabase,
  count: number,
  consumers: Child[],
  table = "orders",
  firstRowWithinMs = 60_000,
): Promise<number> {
  // the first row may take `firstRowWithinMs`; after it, every 60 s must bring more
  let last = 0;
  let movedAt = Date.now() + Math.max(0, firstRowWithinMs - 60_000);
  for (;;) {
    const n = await countOrders(db, table);
    if (n >= count) return n;
    const dead = consumers.find((c) => c.proc.exitCode !== null);
    if (dead) throw new Error(`${dead.name} exited with ${dead.proc.exitCode}:\n${tail(dead.output())}`);
    if (n !== last) {
      last = n;
      movedAt = Math.max(movedAt, Date.now());
    } else if (Date.now() - movedAt > 60_000) {
      const said = consumers.map((c) => `-- ${c.name}:\n${tail(c.output(), 12)}`).join("\n");
      throw new Error(`only ${n} of ${count} ${table} rows reached PostgreSQL; no progress for 60 s\n${said}`);
    }
    await Bun.sleep(200);
  }
}

/** Waits until the group is Stable with every consumer in it (no rebalance during the measurement). */
async function waitForGroup(admin: KafkaAdmin, group: string, members: number, consumers: Child[]): Promise<void> {
  const deadline = Date.now() + 90_000;
  for (;;) {
    const dead = consumers.find((c) => c.proc.exitCode !== null);
    if (dead) throw new Error(`${dead.name} exited with ${dead.proc.exitCode}:\n${tail(dead.output())}`);
    const g = await admin.describeGroup(group);
    if (g.state.toLowerCase() === "stable" && g.members === members) return;
    if (Date.now() > deadline) throw new Error(`consumer group ${group} not stable with ${members} members after 90 s (state ${g.state})`);
    await Bun.sleep(250);
  }
}

export function fmt(n: number, digits = 0): string {
  return n.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

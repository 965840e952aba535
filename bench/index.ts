import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { connectRedis } from "../src/cache/client.ts";
import { cacheKeys } from "../src/cache/keys.ts";
import { KAFKA_CLIENTS, type KafkaClientName, loadConfig } from "../src/config.ts";
import { connect } from "../src/db/client.ts";
import { ensureInfra } from "../src/cli/infra.ts";
import { machineInfo } from "./lib/infra.ts";
import { peakRssMb } from "./lib/proc.ts";
import { withSpinner } from "./lib/progress.ts";
import { PERF_SETTINGS, runConsumerPerformance, runProducerPerformance, runRedisBenchmark, runWriteRefs } from "./references.ts";
import { readProfile } from "./lib/profile.ts";
import { type ClientProfile, type ClientRun, allRss, RSS_LIMIT_MB, type RunReport, renderMarkdown, renderTerminal } from "./report.ts";
import { renderSweep, runSweep } from "./sweep.ts";
import { type FormatRow, renderFormats, runFormats } from "./formats.ts";
import { type ClicksRow, renderClicks, runClicks } from "./clicks.ts";
import { type EnginesRow, flinkBenchClasspath, renderEngines, runEngines } from "./engines.ts";
import {
  closeBench,
  fmt,
  openBench,
  type ProducerSettings,
  runDrain,
  runKafkaOff,
  runKafkaOn,
  runMicroChild,
  runNaiveProducer,
  runProducerOnly,
  sampleRecordSizes,
} from "./tps.ts";
import { appendResults } from "./lib/results.ts";

// `bun bench [--client kafkajs|platformatic|both]` (full, several minutes) or `--quick`
// (`--sweep`: the producer's settings side by side; `--formats`: only each FORMAT beside JSON;
// `--clicks`: only the pipeline with its clickstream beside orders alone; `--engines`: only our
// orders consumers against the Flink job draining one topic):
// micro-benchmarks, then Kafka ON (per client) vs OFF at max rate with every reference measured in
// the same run, the CPU account per order of every kind of process, and CPU profiles of a producer
// and an orders consumer, then each FORMAT beside JSON (bench/formats.ts) and the clickstream's
// cost (bench/clicks.ts) and the engines' drain (bench/engines.ts); prints the tables and
// appends them to bench/RESULTS.md (or --results FILE). `--tiny` runs every phase on a few hundred
// orders: the suite's check that the report works, its figures meaningless.

const { values: flags } = parseArgs({
  args: Bun.argv.slice(2),
  options: {
    quick: { type: "boolean", default: false },
    tiny: { type: "boolean", default: false },
    results: { type: "string" },
    client: { type: "string" },
    orders: { type: "string" },
    "no-report": { type: "boolean", default: false },
    "max-batch": { type: "string" },
    linger: { type: "string" },
    compression: { type: "string" },
    sweep: { type: "boolean", default: false },
    formats: { type: "boolean", default: false },
    clicks: { type: "boolean", default: false },
    engines: { type: "boolean", default: false },
  },
  strict: true,
});

const config = loadConfig();
const clients = clientsOf(flags.client ?? config.kafkaClient);
const size: RunReport["mode"] = flags.tiny ? "tiny" : flags.quick ? "quick" : "full";
const PLANS = {
  full: { orders: 200_000, naive: 2_000, perfRecords: 200_000, refRows: 100_000, refRounds: 2, redisRequests: 5_000, pacedS: 12 },
  quick: { orders: 20_000, naive: 500, perfRecords: 30_000, refRows: 20_000, refRounds: 1, redisRequests: 1_000, pacedS: 4 },
  tiny: { orders: 300, naive: 20, perfRecords: 1_000, refRows: 300, refRounds: 1, redisRequests: 100, pacedS: 0.5 },
};
const plan = {
  ...PLANS[size],
  orders: Number(flags.orders ?? PLANS[size].orders),
  sweepOrders: Number(flags.orders ?? { full: 60_000, quick: 20_000, tiny: 300 }[size]),
  // with clicks each order brings ~40 page events: fewer orders, as many records as a sweep run
  clickOrders: Number(flags.orders ?? { full: 5_000, quick: 1_500, tiny: 20 }[size]),
  // the drain of one topic by our consumers and by Flink: long enough that Flink's start is not the run
  engineOrders: Number(flags.orders ?? { full: 100_000, quick: 30_000, tiny: 300 }[size]),
  // three writers, as three consumers (one partition each)
  lanes: 3,
};
const producer: ProducerSettings = {
  ...(flags["max-batch"] ? { maxBatch: Number(flags["max-batch"]) } : {}),
  ...(flags.linger ? { lingerMs: Number(flags.linger) } : {}),
  ...(flags.compression ? { compression: flags.compression as "none" | "gzip" } : {}),
};

const started = new Date();
// the registry too: every run but --sweep writes each format beside JSON
await ensureInfra(config, (line) => console.error(line), { registry: !flags.sweep });
console.error(`shopstream bench (${size}, ${clients.join(" and ")}): ${fmt(plan.orders)} orders per mode, references in the same run`);

// the Flink jobs built first: a run that cannot build them fails before its first phase, not after its last
const flink = flags.engines || !(flags.sweep || flags.formats || flags.clicks) ? await flinkBenchClasspath() : "";
const ctx = await withSpinner("seed bench database", 3, openBench());
// Ctrl-C reaches the child processes too (same process group); what this run created still goes
process.once("SIGINT", () => {
  console.error("\ninterrupted: removing this run's databases, topics and cache keys");
  void closeBench(ctx).finally(() => process.exit(130));
});
if (flags.sweep) {
  // the producer settings side by side instead of the full run
  const count = plan.sweepOrders;
  try {
    const sample = await sampleRecordSizes(ctx, 2_000);
    const recordSize = Math.round(sample.valueBytes + sample.keyBytes);
    for (const client of clients) {
      const result = await runSweep(ctx, client, count, recordSize);
      const md = renderSweep(client, count, recordSize, result, started, machineInfo().commit);
      console.log(`\n${md}`);
      if (!flags["no-report"]) appendResults(md, flags.results);
    }
  } finally {
    await closeBench(ctx);
  }
  process.exit(0);
}
if (flags.formats) {
  // each format beside JSON, producer alone and whole pipeline, instead of the full run
  const count = plan.sweepOrders;
  try {
    for (const client of clients) {
      const md = renderFormats(client, count, await runFormats(ctx, client, count), `bun bench ${Bun.argv.slice(2).join(" ")}`);
      console.log(`\n${md}`);
      if (!flags["no-report"]) appendResults(md, flags.results);
    }
  } finally {
    await closeBench(ctx);
  }
  process.exit(0);
}
if (flags.clicks) {
  // the pipeline with its clickstream beside orders alone, instead of the full run
  try {
    for (const client of clients) {
      const md = renderClicks(
        client,
        plan.clickOrders,
        await runClicks(ctx, client, plan.clickOrders),
        `bun bench ${Bun.argv.slice(2).join(" ")}`,
      );
      console.log(`\n${md}`);
      if (!flags["no-report"]) appendResults(md, flags.results);
    }
  } finally {
    await closeBench(ctx);
  }
  process.exit(0);
}
if (flags.engines) {
  // our orders consumers against Flink on one topic, instead of the full run
  try {
    const client = clients[0] as KafkaClientName;
    const rows = await runEngines(ctx, client, plan.engineOrders, flink);
    const md = renderEngines(client, plan.engineOrders, rows, `bun bench ${Bun.argv.slice(2).join(" ")}`);
    console.log(`\n${md}`);
    if (!flags["no-report"]) appendResults(md, flags.results);
    if (!rows.every((r) => r.shopstream.exactlyOnce && r.flink.exactlyOnce)) {
      console.error("FAILED: an engine did not land exactly the topic's orders");
      process.exitCode = 1;
    }
  } finally {
    await closeBench(ctx);
  }
  process.exit();
}
let report: RunReport;
let formats: FormatRow[];
let clicks: ClicksRow[];
let engines: EnginesRow[];
try {
  const micro = await runMicroChild(ctx);
  const redisBench = await withSpinner(
    "redis-benchmark HGETALL",
    plan.redisRequests / 1500,
    runRedisBenchmark(config.redisUrl, cacheKeys(ctx.cachePrefix).users, plan.redisRequests),
    false,
    (r) => `${fmt(r.requestsPerSec)} req/s`,
  );
  const sample = await sampleRecordSizes(ctx);
  const perfRecordSize = Math.round(sample.valueBytes + sample.keyBytes);
  // Kafka's own producer right before ours, with its defaults and tuned for throughput: the
  // producer figures of both clients share the conditions of the references
  const producerPerformance = (label: string, props: Record<string, string>, recordsPerSecGuess: number) =>
    withSpinner(
      `ProducerPerformance, ${label}`,
      plan.perfRecords / recordsPerSecGuess + 3,
      runProducerPerformance(ctx, plan.perfRecords, perfRecordSize, props),
      false,
      (r) => `${fmt(r.recordsPerSec)} records/s`,
    );
  const perf = {
    defaults: await producerPerformance("defaults", PERF_SETTINGS.defaults, 8_000),
    tuned: await producerPerformance("batch.size=1048576 linger.ms=5", PERF_SETTINGS.tuned, 30_000),
  };
  // each client's producer alone, as ProducerPerformance runs (a fresh topic, nobody consuming)
  const alone = new Map<KafkaClientName, Awaited<ReturnType<typeof runProducerOnly>>>();
  for (const client of clients)
    alone.set(
      client,
      await withSpinner(
        `${client} producer alone`,
        plan.orders / 20_000 + 3,
        runProducerOnly(ctx, client, plan.orders, producer),
        false,
        (r) => `${fmt(r.tps)} orders/s`,
      ),
    );
  const on = new Map<KafkaClientName, Awaited<ReturnType<typeof runKafkaOn>>>();
  for (const client of clients) on.set(client, await runKafkaOn(ctx, client, plan.orders, producer));
  // the consumer side alone, on the topic the first client's Kafka ON run filled
  const first = on.get(clients[0] as KafkaClientName)!;
  const consumerPerf = await withSpinner(
    "Kafka ConsumerPerformance",
    plan.orders / 40_000 + 5,
    runConsumerPerformance(ctx, first.topic, plan.orders),
    false,
    (r) => `${fmt(r.recordsPerSec)} records/s`,
  );
  const runs = {} as Record<KafkaClientName, ClientRun>;
  for (const client of clients) {
    const drain = await withSpinner(
      `${client} consumer alone`,
      plan.orders / 30_000 + 3,
      runDrain(ctx, client, first.topic, plan.orders),
      false,
      (r) => `${fmt(r.recordsPerSec)} records/s`,
    );
    const naive = await withSpinner(
      `${client} naive producer`,
      plan.naive / 300 + 2,
      runNaiveProducer(ctx, client, plan.naive),
      false,
      (r) => `${fmt(r.tps)} orders/s`,
    );
    runs[client] = { alone: alone.get(client)!, on: on.get(client)!, drain, naive, paced: null, profile: null };
  }
  // "the same batching": Kafka OFF and the batched references write the batch the consumers wrote
  const batch = Math.min(10_000, Math.max(500, Math.round(first.batches.meanRows / 100) * 100));
  const off = await runKafkaOff(ctx, plan.orders, { maxBatch: batch, lanes: plan.lanes });
  // latency without a backlog: every mode again at half the lowest max rate, for a fixed time
  const lowest = Math.min(off.e2e.tps, ...[...on.values()].map((r) => r.e2e.tps));
  const rate = Math.max(100, Math.round((0.5 * lowest) / 100) * 100);
  const pacedCount = Math.round(rate * plan.pacedS);
  for (const client of clients) runs[client].paced = await runKafkaOn(ctx, client, pacedCount, producer, rate);
  // where the CPU goes: Kafka ON once more per client, its producer and first consumer profiled
  // (the profiler's own cost stays out of the measured runs above)
  for (const client of clients) runs[client].profile = await profiledRun(client);
  const pacedOff = await runKafkaOff(ctx, pacedCount, { maxBatch: batch, lanes: plan.lanes }, rate);
  const refs = await withSpinner(
    "PostgreSQL write paths",
    (plan.refRows / 30_000) * 4 * plan.refRounds + 2,
    runWriteRefs(ctx, { rows: plan.refRows, maxBatch: batch, lanes: plan.lanes, rounds: plan.refRounds }),
    false,
    (r) =>
      `COPY ${fmt(r.rowsPerSec.copy)}, unnest ${fmt(r.rowsPerSec.unnest)}, multi-row ${fmt(r.rowsPerSec.multirow)}, insertOrders ${fmt(r.rowsPerSec.insertOrders)} rows/s`,
  );
  report = {
    mode: size,
    startedAt: started,
    durationS: (Date.now() - started.getTime()) / 1000,
    machine: machineInfo(),
    versions: await versions(),
    settings: {
      catalogue: "10,000 users / 20,000 products, cache 1,000 + 1,000",
      clients: clients.join(", "),
      "producer (BatchingProducer)": describeProducer(producer),
      consumers: "3 × src/services/consumer.ts orders (one partition each)",
      "service runtime": `BUN_JSC_forceRAMSize=${config.serviceRamBytes}`,
      "Kafka OFF and batched references": `${fmt(batch)} rows/statement (the consumers' mean batch in Kafka ON) × ${plan.lanes} writers`,
    },
    record: { valueBytes: sample.valueBytes, keyBytes: sample.keyBytes, perfRecordSize },
    micro,
    redisBench,
    perf,
    consumerPerf,
    clients: runs,
    off,
    pacedRate: rate,
    pacedOff,
    refs,
    harnessRssMb: peakRssMb(process.pid) ?? 0,
  };
  // each format beside JSON, producer alone and whole pipeline, on the first client
  formats = await runFormats(ctx, clients[0] as KafkaClientName, plan.sweepOrders);
  // and the clickstream's cost: the same orders with their clicks, on the first client
  clicks = await runClicks(ctx, clients[0] as KafkaClientName, plan.clickOrders);
  // and the reference our consumers must beat: Flink draining the same topic into PostgreSQL
  engines = await runEngines(ctx, clients[0] as KafkaClientName, plan.engineOrders, flink);
} finally {
  await closeBench(ctx);
}

console.log(renderTerminal(report));
const over = Object.entries(allRss(report)).filter(([, mb]) => mb > RSS_LIMIT_MB);
if (over.length) console.log(`above ${RSS_LIMIT_MB} MB: ${over.map(([k, v]) => `${k} ${fmt(v)} MB`).join(", ")}`);
const phases = [report.off, report.pacedOff, ...Object.values(report.clients).flatMap((c) => [c.on, c.paced])];
if (!phases.every((p) => p?.exactlyOnce)) {
  console.error("FAILED: not every order reached PostgreSQL exactly once");
  process.exitCode = 1;
}
if (!flags["no-report"]) appendResults(renderMarkdown(report), flags.results);
const formatsMd = renderFormats(clients[0] as KafkaClientName, plan.sweepOrders, formats, `bun bench ${Bun.argv.slice(2).join(" ")}`);
console.log(`\n${formatsMd}`);
if (!flags["no-report"]) appendResults(formatsMd, flags.results);
const clicksMd = renderClicks(clients[0] as KafkaClientName, plan.clickOrders, clicks, `bun bench ${Bun.argv.slice(2).join(" ")}`);
console.log(`\n${clicksMd}`);
if (!flags["no-report"]) appendResults(clicksMd, flags.results);
const enginesMd = renderEngines(clients[0] as KafkaClientName, plan.engineOrders, engines, `bun bench ${Bun.argv.slice(2).join(" ")}`);
console.log(`\n${enginesMd}`);
if (!flags["no-report"]) appendResults(enginesMd, flags.results);
if (!engines.every((r) => r.shopstream.exactlyOnce && r.flink.exactlyOnce)) {
  console.error("FAILED: an engine did not land exactly the topic's orders");
  process.exitCode = 1;
}
console.log(`done in ${fmt((Date.now() - started.getTime()) / 1000)} s`);

async function profiledRun(client: KafkaClientName): Promise<ClientProfile> {
  const root = mkdtempSync(join(tmpdir(), "shopstream-prof-"));
  const dirs = { producer: join(root, "producer"), consumer: join(root, "consumer") };
  try {
    const run = await runKafkaOn(ctx, client, plan.orders, producer, undefined, dirs);
    return {
      orders: plan.orders,
      consumerOrders: run.batches.rowsBy["order-consumer-1"] ?? 0,
      producerCpuSeconds: run.producerCpuSeconds,
      consumerCpuSeconds: run.consumerCpuSeconds["order-consumer-1"] ?? 0,
      producer: readProfile(dirs.producer),
      consumer: readProfile(dirs.consumer),
    };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

function clientsOf(flag: string): KafkaClientName[] {
  if (flag === "both") return [...KAFKA_CLIENTS];
  if ((KAFKA_CLIENTS as readonly string[]).includes(flag)) return [flag as KafkaClientName];
  console.error(`--client: expected ${KAFKA_CLIENTS.join(", ")} or both, got "${flag}"`);
  process.exit(2);
}

function describeProducer(p: ProducerSettings): string {
  const set = Object.entries(p).map(([k, v]) => `${k}=${v}`);
  return set.length ? set.join(" ") : "shipped defaults";
}

async function versions(): Promise<RunReport["versions"]> {
  const sql = connect(config.databaseUrl.replace(/\/[^/]*$/, "/postgres"), { max: 1 });
  try {
    const [row] = await sql<{ v: string }[]>`select current_setting('server_version') as v`;
    const redis = connectRedis(config.redisUrl);
    const info = await redis.info("server");
    redis.disconnect();
    return { postgres: row?.v.split(" ")[0] ?? "?", redis: /redis_version:(\S+)/.exec(info)?.[1] ?? "?", kafka: "3.9.1" };
  } finally {
    await sql.end();
  }
}

import { appendFileSync, existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { connect } from "../src/db/client.ts";
import { loadConfig } from "../src/config.ts";
import { connectRedis } from "../src/cache/client.ts";
import { cacheKeys } from "../src/cache/keys.ts";
import { ensureInfra, machineInfo } from "./lib/infra.ts";
import { peakRssMb } from "./lib/proc.ts";
import { withSpinner } from "./lib/progress.ts";
import { runProducerPerformance, runRedisBenchmark, runWriteRefs } from "./references.ts";
import { renderSweep, runSweep } from "./sweep.ts";
import { allRss, renderMarkdown, renderTerminal, RSS_LIMIT_MB, type RunReport } from "./report.ts";
import {
  closeBench,
  fmt,
  openBench,
  runMicroChild,
  runKafkaOff,
  runKafkaOn,
  runNaiveProducer,
  sampleRecordSizes,
  type ProducerSettings,
} from "./tps.ts";

// `bun bench` (full, a few minutes) or `bun run bench -- --quick` (well under two minutes):
// micro-benchmarks, then Kafka ON vs OFF at max rate with every reference measured in the same
// run; prints the tables and appends them to bench/RESULTS.md.

const { values: flags } = parseArgs({
  args: Bun.argv.slice(2),
  options: {
    quick: { type: "boolean", default: false },
    orders: { type: "string" },
    "no-report": { type: "boolean", default: false },
    "max-batch": { type: "string" },
    linger: { type: "string" },
    compression: { type: "string" },
    sweep: { type: "boolean", default: false },
  },
  strict: true,
});

const quick = flags.quick ?? false;
const plan = {
  orders: Number(flags.orders ?? (quick ? 20_000 : 200_000)),
  naive: quick ? 500 : 2_000,
  perfRecords: quick ? 30_000 : 200_000,
  refRows: quick ? 20_000 : 100_000,
  refRounds: quick ? 1 : 2,
  redisRequests: quick ? 1_000 : 5_000,
  // three writers, as three consumers (one partition each)
  lanes: 3,
};
const producer: ProducerSettings = {
  ...(flags["max-batch"] ? { maxBatch: Number(flags["max-batch"]) } : {}),
  ...(flags.linger ? { lingerMs: Number(flags.linger) } : {}),
  ...(flags.compression ? { compression: flags.compression as "none" | "gzip" } : {}),
};

const RESULTS = join(import.meta.dir, "RESULTS.md");
const started = new Date();
const config = loadConfig();
await ensureInfra(config);
console.error(`shopstream bench (${quick ? "quick" : "full"}): ${fmt(plan.orders)} orders per mode, references in the same run`);

const ctx = await withSpinner("seed bench database", 3, openBench());
// Ctrl-C reaches the child processes too (same process group); what this run created still goes
process.once("SIGINT", () => {
  console.error("\ninterrupted: removing this run's databases, topics and cache keys");
  void closeBench(ctx).finally(() => process.exit(130));
});
if (flags.sweep) {
  // the producer settings side by side instead of the full run
  const count = Number(flags.orders ?? (quick ? 20_000 : 60_000));
  try {
    const sample = await sampleRecordSizes(ctx, 2_000);
    const recordSize = Math.round(sample.valueBytes + sample.keyBytes);
    const result = await runSweep(ctx, count, recordSize);
    const md = renderSweep(count, recordSize, result, started, machineInfo().commit);
    console.log(`\n${md}`);
    if (!flags["no-report"]) appendResults(md);
  } finally {
    await closeBench(ctx);
  }
  process.exit(0);
}
let report: RunReport;
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
  // ProducerPerformance right before Kafka ON: the two producer figures share the same conditions
  const perf = await withSpinner(
    "Kafka ProducerPerformance",
    plan.perfRecords / 25_000 + 3,
    runProducerPerformance(ctx, plan.perfRecords, perfRecordSize),
    false,
    (r) => `${fmt(r.recordsPerSec)} records/s`,
  );
  const on = await runKafkaOn(ctx, plan.orders, producer);
  const naive = await withSpinner(
    "naive producer",
    plan.naive / 300 + 2,
    runNaiveProducer(ctx, plan.naive),
    false,
    (r) => `${fmt(r.tps)} orders/s`,
  );
  // "the same batching": Kafka OFF and the batched references write the batch the consumers wrote
  const batch = Math.min(10_000, Math.max(500, Math.round(on.batches.meanRows / 100) * 100));
  const off = await runKafkaOff(ctx, plan.orders, { maxBatch: batch, lanes: plan.lanes });
  // latency without a backlog: both modes again at half the lower max rate, for a fixed time
  const rate = Math.max(100, Math.round((0.5 * Math.min(on.e2e.tps, off.e2e.tps)) / 100) * 100);
  const pacedCount = rate * (quick ? 4 : 12);
  const paced = {
    rate,
    on: await runKafkaOn(ctx, pacedCount, producer, rate),
    off: await runKafkaOff(ctx, pacedCount, { maxBatch: batch, lanes: plan.lanes }, rate),
  };
  const refs = await withSpinner(
    "PostgreSQL write paths",
    (plan.refRows / 30_000) * 4 * plan.refRounds + 2,
    runWriteRefs(ctx, { rows: plan.refRows, maxBatch: batch, lanes: plan.lanes, rounds: plan.refRounds }),
    false,
    (r) =>
      `COPY ${fmt(r.rowsPerSec.copy)}, unnest ${fmt(r.rowsPerSec.unnest)}, multi-row ${fmt(r.rowsPerSec.multirow)}, insertOrders ${fmt(r.rowsPerSec.insertOrders)} rows/s`,
  );
  report = {
    mode: quick ? "quick" : "full",
    startedAt: started,
    durationS: (Date.now() - started.getTime()) / 1000,
    machine: machineInfo(),
    versions: await versions(),
    settings: {
      catalogue: "10,000 users / 20,000 products, cache 1,000 + 1,000",
      "producer (BatchingProducer)": describeProducer(producer),
      consumers: "3 × src/services/consumer.ts orders (one partition each)",
      "Kafka OFF and batched references": `${fmt(batch)} rows/statement (the consumers' mean batch in Kafka ON) × ${plan.lanes} writers`,
    },
    record: { valueBytes: sample.valueBytes, keyBytes: sample.keyBytes, perfRecordSize },
    micro,
    redisBench,
    perf,
    naive,
    on,
    off,
    paced,
    refs,
    harnessRssMb: peakRssMb(process.pid) ?? 0,
  };
} finally {
  await closeBench(ctx);
}

console.log(renderTerminal(report));
const over = Object.entries(allRss(report)).filter(([, mb]) => mb > RSS_LIMIT_MB);
if (over.length) console.log(`above ${RSS_LIMIT_MB} MB: ${over.map(([k, v]) => `${k} ${fmt(v)} MB`).join(", ")}`);
if (![report.on, report.off, report.paced.on, report.paced.off].every((p) => p.exactlyOnce)) {
  console.error("FAILED: not every order reached PostgreSQL exactly once");
  process.exitCode = 1;
}
if (!flags["no-report"]) appendResults(renderMarkdown(report));
console.log(`done in ${fmt((Date.now() - started.getTime()) / 1000)} s`);

function appendResults(markdown: string): void {
  if (!existsSync(RESULTS))
    writeFileSync(RESULTS, "# shopstream benchmark results\n\nRuns appended by `bun bench`; analysis sections by hand.\n");
  appendFileSync(RESULTS, `\n${markdown}`);
  console.log(`appended to ${RESULTS}`);
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

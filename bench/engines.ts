import type { KafkaClientName } from "../src/config.ts";
import { backendPids, type BenchDatabase, orderFingerprint } from "./lib/db.ts";
import { CLOCK_TICKS, type Child, CpuMeter, cpuTicks, spawnChild } from "./lib/proc.ts";
import { flinkClasspath, flinkJobCommand, flinkJobEnv } from "../src/cli/flink-job.ts";
import { resultsHeader } from "./lib/results.ts";
import type { ProducerJob, ProducerResult } from "./procs/job.ts";
import { type BenchContext, bun, endPhase, fmt, phaseDatabase, phaseTopics, pipelineEnv, topicPrefixOf, waitForRows } from "./tps.ts";

// `bun bench --engines` (and every full run): the reference our consumers must beat. One orders
// topic filled by the producer, then drained into PostgreSQL twice per round, each into a database
// of its own cloned from the same catalogue (orders empty): by the pipeline's three orders consumers,
// and by the Flink SQL job (flink/, docs/flink.md) in a local mini-cluster, one reader per partition,
// upserting through Flink's JDBC connector. Both results are checked exactly (the ids equal the
// producer's); rows/s while the middle 80 % of the rows landed, CPU per row from the engine's
// processes and the PostgreSQL backends serving it, over its whole life (start included).

export type Engine = "shopstream" | "flink";

/** How long an engine may take to land its first row: Flink's mini-cluster plans its SQL first, slowly on a loaded machine. */
const ENGINE_START_MS = 180_000;

export interface EngineRun {
  engine: Engine;
  rows: number;
  exactlyOnce: boolean;
  /** while the middle 80 % of the rows landed */
  rowsPerSec: number;
  /** the engine started → the last row committed (its start-up included) */
  wallS: number;
  cpuUsPerRow: { engine: number; postgres: number };
  /** CPU per row while the middle 80 % landed */
  steadyCpuUsPerRow: { engine: number; postgres: number };
}

export interface EnginesRow {
  shopstream: EngineRun;
  flink: EngineRun;
}

/** Two rounds, the second in reverse order, on one topic of `count` orders. */
export async function runEngines(ctx: BenchContext, client: KafkaClientName, count: number, classpath: string): Promise<EnginesRow[]> {
  const names = await phaseTopics(ctx, "engines");
  const prefix = topicPrefixOf(names);
  const job: ProducerJob = { mode: "batching", count, seed: `${ctx.seed}:engines`, topicPrefix: prefix, cachePrefix: ctx.cachePrefix };
  const produced = await spawnChild("producer", bun("bench/procs/producer.ts"), {
    ...pipelineEnv(ctx, client),
    BENCH_JOB: JSON.stringify(job),
  }).result<ProducerResult>();
  if (produced.failed > 0) throw new Error(`${produced.failed} orders were not acknowledged`);
  const rows: EnginesRow[] = [];
  for (const round of [0, 1]) {
    const order: Engine[] = round === 0 ? ["shopstream", "flink"] : ["flink", "shopstream"];
    const row = {} as EnginesRow;
    for (const engine of order) {
      row[engine] =
        engine === "shopstream"
          ? await drain(ctx, engine, count, produced.idsMd5, (db) =>
              [1, 2, 3].map((i) =>
                spawnChild(`order-consumer-${i}`, bun("src/services/consumer.ts", ["orders"]), {
                  ...pipelineEnv(ctx, client),
                  DATABASE_URL: db.url,
                  TOPIC_PREFIX: prefix,
                  CACHE_PREFIX: ctx.cachePrefix,
                  METRICS_PORT: "0",
                  INSTANCE: String(i),
                }),
              ),
            )
          : await drain(ctx, engine, count, produced.idsMd5, (db) => [
              spawnChild(
                "flink",
                // its own database: the pipeline's table shape, foreign keys included
                flinkJobCommand(classpath, ["orders", "--bounded", "--table", "orders", "--group", `${prefix}flink-${round}`]),
                flinkJobEnv({ ...ctx.config, databaseUrl: db.url, topicPrefix: prefix }),
              ),
            ]);
      // the pipeline's group starts from the beginning again next round
      if (engine === "shopstream") await ctx.admin.deleteGroups([names.group("orders")]);
    }
    rows.push(row);
  }
  return rows;
}

async function drain(
  ctx: BenchContext,
  engine: Engine,
  count: number,
  idsMd5: string,
  start: (db: BenchDatabase) => Child[],
): Promise<EngineRun> {
  const db = await phaseDatabase(ctx, engine === "flink" ? "flink" : "ours");
  let children: Child[] = [];
  const meter = new CpuMeter(async () => ({
    engine: children.map((c) => c.proc.pid),
    postgres: await backendPids(db.sql, [db.name]),
  }));
  try {
    await meter.start(250);
    const started = Date.now();
    children = start(db);
    const landed: Landed[] = [];
    const poll = setInterval(() => {
      const at = Date.now();
      void Promise.all([countRows(db), backendPids(db.sql, [db.name])]).then(
        ([rows, backends]) => {
          const ticks = (pids: number[]) =>
            new Map(pids.map((pid) => [pid, cpuTicks(pid)] as const).filter((e): e is [number, number] => e[1] !== null));
          landed.push({ at, rows, engine: ticks(children.map((c) => c.proc.pid)), postgres: ticks(backends) });
        },
        () => {},
      );
    }, 100);
    try {
      await waitForRows(db, count, children, "orders", ENGINE_START_MS);
    } finally {
      clearInterval(poll);
    }
    const wallS = (Date.now() - started) / 1000;
    const cpu = await meter.stop();
    const fp = await orderFingerprint(db.sql);
    return {
      engine,
      rows: fp.rows,
      exactlyOnce: fp.rows === count && fp.distinct === count && fp.md5 === idsMd5,
      ...middle(
        landed.sort((a, b) => a.at - b.at),
        count,
      ),
      wallS,
      cpuUsPerRow: { engine: ((cpu.cpuSeconds.engine ?? 0) / count) * 1e6, postgres: ((cpu.cpuSeconds.postgres ?? 0) / count) * 1e6 },
    };
  } finally {
    meter.cancel();
    await Promise.all(children.map((c) => c.stop()));
    await endPhase(ctx, db, null);
  }
}

interface Landed {
  at: number;
  rows: number;
  /** CPU ticks so far of each process of the engine, and of each PostgreSQL backend serving it. */
  engine: Map<number, number>;
  postgres: Map<number, number>;
}

/**
 * Rows per second, and CPU per row, while the middle 80 % landed (10 % → 90 % of `count`, from the
 * harness's look every 100 ms): the engines' start-up and their flush sizes (a sink that buffers
 * 5,000 rows shows nothing, then all at once) stay out of it, for both alike.
 */
function middle(samples: readonly Landed[], count: number): Pick<EngineRun, "rowsPerSec" | "steadyCpuUsPerRow"> {
  const fromAt = samples.findIndex((s) => s.rows >= count * 0.1);
  const toAt = samples.findIndex((s) => s.rows >= count * 0.9);
  const from = samples[fromAt];
  const to = samples[toAt];
  if (!from || !to || to.at <= from.at) return { rowsPerSec: Number.NaN, steadyCpuUsPerRow: { engine: Number.NaN, postgres: Number.NaN } };
  const rows = to.rows - from.rows;
  const window = samples.slice(fromAt, toAt + 1);
  const us = (ticks: number) => ((ticks / CLOCK_TICKS) * 1e6) / rows;
  return {
    rowsPerSec: rows / ((to.at - from.at) / 1000),
    steadyCpuUsPerRow: { engine: us(spent(window, (s) => s.engine)), postgres: us(spent(window, (s) => s.postgres)) },
  };
}

/**
 * Ticks spent over the window, process by process: from its value at the window's start (0 when it
 * was born inside it) to the last value seen (a process that ended keeps its last sample).
 */
function spent(window: readonly Landed[], of: (s: Landed) => Map<number, number>): number {
  const first = of(window[0] as Landed);
  const last = new Map<number, number>();
  for (const s of window) for (const [pid, ticks] of of(s)) last.set(pid, ticks);
  let sum = 0;
  for (const [pid, ticks] of last) sum += ticks - (first.get(pid) ?? 0);
  return sum;
}

async function countRows(db: BenchDatabase): Promise<number> {
  const [row] = await db.sql<{ n: number }[]>`select count(*)::int as n from orders`;
  return row?.n ?? 0;
}

/** The Flink jobs built (Maven, once per change of their sources): their classpath. Called before a run's first phase. */
export async function flinkBenchClasspath(): Promise<string> {
  const classpath = await flinkClasspath();
  if (classpath === null) throw new Error("the Flink jobs did not build (see above)");
  return classpath;
}

export function renderEngines(client: KafkaClientName, count: number, rows: readonly EnginesRow[], command: string): string {
  const cpu = (c: { engine: number; postgres: number }) => `${fmt(c.engine, 1)} + ${fmt(c.postgres, 1)}`;
  const line = (round: number, r: EngineRun) =>
    `| round ${round}, ${r.engine === "flink" ? "Flink 1.20 SQL job (JDBC upsert)" : "shopstream's orders consumers"} | ${fmt(r.rows)} | ${fmt(r.rowsPerSec)} | ${cpu(r.steadyCpuUsPerRow)} | ${fmt(r.wallS, 1)} | ${fmt(r.rows / r.wallS)} | ${cpu(r.cpuUsPerRow)} | ${r.exactlyOnce ? "yes" : "NO"} |`;
  const mean = (f: (r: EnginesRow) => number) => rows.reduce((s, r) => s + f(r), 0) / rows.length;
  const total = (c: { engine: number; postgres: number }) => c.engine + c.postgres;
  const ratio = mean((r) => r.shopstream.rowsPerSec / r.flink.rowsPerSec);
  const wallRatio = mean((r) => r.flink.wallS / r.shopstream.wallS);
  const cpuRatio = mean((r) => total(r.flink.cpuUsPerRow) / total(r.shopstream.cpuUsPerRow));
  return [
    resultsHeader(`Engines: our orders consumers against Flink (${client}, ${fmt(count)} orders, two rounds)`, command),
    "",
    `One orders topic of ${fmt(count)} orders (3 partitions, RF 3), drained into PostgreSQL by each engine into a database of its own, cloned from the same catalogue with its orders table empty: the pipeline's three orders consumers (\`src/services/consumer.ts orders\`, ${client}; they also move each buyer's last_ordered_at and each product's order_count), and the Flink SQL job (\`flink/\`, \`orders --bounded\`, a local mini-cluster, one reader per partition, Flink's JDBC upsert sink flushing every 5,000 rows or 1 s, the driver rewriting each batch into multi-row statements, object reuse on). Rows/s and CPU per row while the middle 80 % of the rows landed (the harness counts the rows and reads the processes' CPU every 100 ms: start-up and flush sizes stay out of it), then over the wall, from the engine's start to the last row (start-up included). CPU: the engine's processes + the PostgreSQL backends serving it.`,
    "",
    "| run | rows | rows/s, middle 80 % | CPU µs/row there | wall s | rows/s over the wall | CPU µs/row over the wall | exactly the topic's orders |",
    "|---|---|---|---|---|---|---|---|",
    ...rows.flatMap((r, i) => [line(i + 1, r.shopstream), line(i + 1, r.flink)]),
    "",
    `Our consumers store ${ratio.toFixed(2)}× Flink's rows per second while the middle 80 % land (aim: ≥ 2×), ${wallRatio.toFixed(2)}× over the whole drain from each engine's start, for ${cpuRatio.toFixed(2)}× less CPU per row over the drain.`,
  ].join("\n");
}

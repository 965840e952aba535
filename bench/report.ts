import { MICRO, type MicroResult } from "./micro.ts";
import type { PerfResult, RedisBenchResult, WriteRefs } from "./references.ts";
import type { PhaseResult } from "./tps.ts";
import type { ProducerResult } from "./procs/job.ts";
import type { MachineInfo } from "./lib/infra.ts";

// The figures of one run as tables: printed on the terminal and appended to bench/RESULTS.md.

export const RSS_LIMIT_MB = 150;

export interface RunReport {
  mode: "full" | "quick";
  startedAt: Date;
  durationS: number;
  machine: MachineInfo;
  versions: { postgres: string; redis: string; kafka: string };
  settings: Record<string, string | number>;
  record: { valueBytes: number; keyBytes: number; perfRecordSize: number };
  micro: MicroResult;
  redisBench: RedisBenchResult;
  perf: PerfResult;
  naive: ProducerResult;
  on: PhaseResult;
  off: PhaseResult;
  /** Both modes again at half the lower max rate: latency without a backlog. */
  paced: { rate: number; on: PhaseResult; off: PhaseResult };
  refs: WriteRefs;
  harnessRssMb: number;
}

interface Ratio {
  figure: string;
  value: string;
  reference: string;
  refValue: string;
  ratio: number;
  /** ratio must be ≥ aim (null: reported only) */
  aim: number | null;
  aimText: string;
}

const n0 = (n: number) => n.toLocaleString("en-US", { maximumFractionDigits: 0 });
const n1 = (n: number) => n.toLocaleString("en-US", { maximumFractionDigits: 1, minimumFractionDigits: 1 });
const ms = (n: number) => (n < 0.01 ? `${(n * 1000).toFixed(2)} µs` : n < 1 ? n.toFixed(3) : n < 100 ? n.toFixed(1) : n0(n));
const x = (n: number) => (n >= 10 ? `${n0(n)}×` : `${n.toFixed(2)}×`);

export function ratios(r: RunReport): Ratio[] {
  const m = r.micro.p50Ms;
  const bestPlain = r.refs.rowsPerSec.unnest >= r.refs.rowsPerSec.multirow ? "unnest" : "multirow";
  const plain = r.refs.rowsPerSec[bestPlain];
  const write = r.refs.rowsPerSec.insertOrders;
  const copy = r.refs.rowsPerSec.copy;
  const top = m[MICRO.topBuyers] ?? NaN;
  const seq = m[MICRO.sequential] ?? NaN;
  const pipeline = pipelineRss(r);
  const [worst, worstMb] = Object.entries(pipeline).sort((a, b) => b[1] - a[1])[0] ?? ["-", 0];
  const tools = toolRss(r);
  const [worstTool, worstToolMb] = Object.entries(tools).sort((a, b) => b[1] - a[1])[0] ?? ["-", 0];
  return [
    {
      figure: "Kafka ON producer, orders/s",
      value: n0(r.on.producerTps),
      reference: `ProducerPerformance, ${r.record.perfRecordSize} B records, acks=all`,
      refValue: n0(r.perf.recordsPerSec),
      ratio: r.on.producerTps / r.perf.recordsPerSec,
      aim: 0.5,
      aimText: "≥ 0.5",
    },
    {
      figure: "Kafka ON producer, orders/s",
      value: n0(r.on.producerTps),
      reference: "naive producer: one awaited send() per order",
      refValue: n0(r.naive.tps),
      ratio: r.on.producerTps / r.naive.tps,
      aim: 10,
      aimText: "≥ 10",
    },
    {
      figure: "consumer write path (insertOrders), rows/s",
      value: n0(write),
      reference: `best plain batched insert (${bestPlain})`,
      refValue: n0(plain),
      ratio: write / plain,
      aim: 0.8,
      aimText: "≥ 0.8",
    },
    {
      figure: "consumer write path (insertOrders), rows/s",
      value: n0(write),
      reference: "COPY into an empty orders table",
      refValue: n0(copy),
      ratio: write / copy,
      aim: null,
      aimText: "report",
    },
    {
      figure: "Kafka ON end to end, orders/s",
      value: n0(r.on.e2e.tps),
      reference: "Kafka OFF end to end (same generator → PostgreSQL)",
      refValue: n0(r.off.e2e.tps),
      ratio: r.on.e2e.tps / r.off.e2e.tps,
      aim: null,
      aimText: "report",
    },
    {
      figure: "Kafka ON end to end, orders/s",
      value: n0(r.on.e2e.tps),
      reference: "COPY into an empty orders table",
      refValue: n0(copy),
      ratio: r.on.e2e.tps / copy,
      aim: null,
      aimText: "report",
    },
    {
      figure: "Kafka OFF end to end, orders/s",
      value: n0(r.off.e2e.tps),
      reference: "COPY into an empty orders table",
      refValue: n0(copy),
      ratio: r.off.e2e.tps / copy,
      aim: null,
      aimText: "report",
    },
    {
      figure: "top-200 selection p50, ms",
      value: ms(top),
      reference: "1,000 sequential HGETALL p50, ms",
      refValue: ms(seq),
      ratio: seq / top,
      aim: 20,
      aimText: `≥ 20 faster; p50 ≤ 1 ms: ${top <= 1 ? "yes" : "NO"}`,
    },
    {
      figure: "shipped read + top 200 p50, ms",
      value: ms(m[MICRO.shippedSelect] ?? NaN),
      reference: "1,000 sequential HGETALL + top 200 p50, ms",
      refValue: ms(m[MICRO.sequentialSelect] ?? NaN),
      ratio: (m[MICRO.sequentialSelect] ?? NaN) / (m[MICRO.shippedSelect] ?? NaN),
      aim: null,
      aimText: "report (speed-up)",
    },
    {
      figure: "1,000 pipelined HGETALL p50, ms",
      value: ms(m[MICRO.pipelined] ?? NaN),
      reference: "1,000 sequential HGETALL p50, ms",
      refValue: ms(seq),
      ratio: seq / (m[MICRO.pipelined] ?? NaN),
      aim: null,
      aimText: "report (speed-up)",
    },
    {
      figure: "HGETALL cache:users from Bun (ioredis), req/s",
      value: n0(1000 / (m[MICRO.oneHash] ?? NaN)),
      reference: `redis-benchmark HGETALL, same hash, ${r.redisBench.clients} client`,
      refValue: n0(r.redisBench.requestsPerSec),
      ratio: 1000 / (m[MICRO.oneHash] ?? NaN) / r.redisBench.requestsPerSec,
      aim: null,
      aimText: "report",
    },
    {
      figure: `peak RSS of our largest pipeline process (${worst}), MB`,
      value: n0(worstMb),
      reference: "limit",
      refValue: String(RSS_LIMIT_MB),
      ratio: RSS_LIMIT_MB / worstMb,
      aim: 1,
      aimText: "limit/peak ≥ 1",
    },
    {
      figure: `peak RSS of the bench's own tooling (${worstTool}), MB`,
      value: n0(worstToolMb),
      reference: "limit",
      refValue: String(RSS_LIMIT_MB),
      ratio: RSS_LIMIT_MB / worstToolMb,
      aim: null,
      aimText: "report",
    },
  ];
}

/** The processes that stand for shopstream's services: producer, consumers, the direct writer. */
export function pipelineRss(r: RunReport): Record<string, number> {
  const out: Record<string, number> = { "naive-producer": r.naive.peakRssMb ?? 0 };
  for (const p of [r.on, r.off, r.paced.on, r.paced.off]) for (const [k, v] of Object.entries(p.rss)) out[k] = Math.max(out[k] ?? 0, v);
  return out;
}

/** The bench's own processes: the harness, the mitata child and the write-path child. */
export function toolRss(r: RunReport): Record<string, number> {
  return { harness: r.harnessRssMb, micro: r.micro.peakRssMb ?? 0, "write-paths": r.refs.peakRssMb };
}

export function allRss(r: RunReport): Record<string, number> {
  return { ...toolRss(r), ...pipelineRss(r) };
}

function phaseRows(r: RunReport): string[][] {
  const on = r.on;
  const off = r.off;
  const share = (p: PhaseResult, g: string) => `${Math.round((p.cpu.shares[g] ?? 0) * 100)} %`;
  const consumerRss = (p: PhaseResult) =>
    Object.entries(p.rss)
      .filter(([k]) => k.startsWith("order-consumer"))
      .map(([, v]) => n0(v))
      .join(" / ");
  return [
    ["orders", n0(on.count), n0(off.count), ""],
    ["producer side, orders/s", n0(on.producerTps), n0(off.producerTps), x(on.producerTps / off.producerTps)],
    ["end to end, orders/s (generated → row in PostgreSQL)", n0(on.e2e.tps), n0(off.e2e.tps), x(on.e2e.tps / off.e2e.tps)],
    ["end-to-end latency p50, ms", ms(on.e2e.p50Ms), ms(off.e2e.p50Ms), x(on.e2e.p50Ms / off.e2e.p50Ms)],
    ["end-to-end latency p99, ms", ms(on.e2e.p99Ms), ms(off.e2e.p99Ms), x(on.e2e.p99Ms / off.e2e.p99Ms)],
    ["batches written to PostgreSQL: count / mean rows / mean ms", batchText(on), batchText(off), ""],
    [
      `at half load (${n0(r.paced.rate)} orders/s, ${n0(r.paced.on.count)} orders): latency p50, ms`,
      ms(r.paced.on.e2e.p50Ms),
      ms(r.paced.off.e2e.p50Ms),
      x(r.paced.on.e2e.p50Ms / r.paced.off.e2e.p50Ms),
    ],
    ["at half load: latency p99, ms", ms(r.paced.on.e2e.p99Ms), ms(r.paced.off.e2e.p99Ms), x(r.paced.on.e2e.p99Ms / r.paced.off.e2e.p99Ms)],
    ["every order in PostgreSQL exactly once (max rate and half load)", yes(on, r.paced.on), yes(off, r.paced.off), ""],
    ["peak RSS, MB: producer process / direct writer", n0(on.rss.producer ?? 0), n0(off.rss["direct-writer"] ?? 0), ""],
    ["peak RSS, MB: the three order consumers", consumerRss(on), "", ""],
    ["CPU, share of both cores: Kafka brokers", share(on, "brokers"), share(off, "brokers"), ""],
    ["CPU: our Bun processes (incl. harness)", share(on, "bun"), share(off, "bun"), ""],
    ["CPU: PostgreSQL backends of the run", share(on, "postgres"), share(off, "postgres"), ""],
    ["CPU: everything else on the machine", share(on, "other"), share(off, "other"), ""],
    ["CPU: machine busy", `${Math.round(on.cpu.busy * 100)} %`, `${Math.round(off.cpu.busy * 100)} %`, ""],
  ];
}

function yes(...phases: PhaseResult[]): string {
  return phases.every((p) => p.exactlyOnce) ? "yes" : "NO";
}

function batchText(p: PhaseResult): string {
  return `${n0(p.batches.count)} / ${n0(p.batches.meanRows)} / ${ms(p.batches.meanWriteMs)}`;
}

function referenceRows(r: RunReport): string[][] {
  const w = r.refs;
  return [
    [
      `Apache Kafka ProducerPerformance (${n0(r.perf.records)} × ${r.perf.records ? r.record.perfRecordSize : 0} B, acks=all)`,
      `${n0(r.perf.recordsPerSec)} records/s, ${n1(r.perf.mbPerSec)} MB/s, p50 ${r.perf.p50Ms} ms, p99 ${r.perf.p99Ms} ms`,
    ],
    [`naive producer (${n0(r.naive.count)} orders, one awaited send each)`, `${n0(r.naive.tps)} orders/s`],
    [`COPY, ${n0(w.rows)} rows, one stream`, `${n0(w.rowsPerSec.copy)} rows/s`],
    [`plain unnest insert, ${n0(w.maxBatch)}/statement × ${w.lanes} writers`, `${n0(w.rowsPerSec.unnest)} rows/s`],
    [`plain multi-row VALUES insert, ${n0(w.maxBatch)}/statement × ${w.lanes} writers`, `${n0(w.rowsPerSec.multirow)} rows/s`],
    [`insertOrders (consumer write path), ${n0(w.maxBatch)}/statement × ${w.lanes} writers`, `${n0(w.rowsPerSec.insertOrders)} rows/s`],
    [`redis-benchmark -c ${r.redisBench.clients} HGETALL cache:users (1,000 fields)`, `${n0(r.redisBench.requestsPerSec)} req/s`],
  ];
}

function microRows(r: RunReport): string[][] {
  return Object.values(MICRO).map((name) => [name, ms(r.micro.p50Ms[name] ?? NaN), ms(r.micro.avgMs[name] ?? NaN)]);
}

// ---------------------------------------------------------------------------------------------

function box(title: string, header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? "").length)));
  const line = (cells: string[]) =>
    `│ ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0))).join(" │ ")} │`;
  const rule = (l: string, m: string, r2: string) => `${l}${widths.map((w) => "─".repeat(w + 2)).join(m)}${r2}`;
  return [title, rule("┌", "┬", "┐"), line(header), rule("├", "┼", "┤"), ...rows.map(line), rule("└", "┴", "┘")].join("\n");
}

function ratioRows(r: RunReport): string[][] {
  return ratios(r).map((q) => [
    q.figure,
    q.value,
    q.reference,
    q.refValue,
    x(q.ratio),
    q.aimText,
    q.aim === null ? "" : q.ratio >= q.aim && !q.aimText.includes("NO") ? "met" : "MISSED",
  ]);
}

export function renderTerminal(r: RunReport): string {
  return [
    "",
    box(`Kafka ON vs OFF — ${n0(r.on.count)} orders at max rate, then at half load`, ["", "Kafka ON", "Kafka OFF", "ON/OFF"], phaseRows(r)),
    "",
    box(
      "shopstream figures as ratios to their references (same run)",
      ["shopstream", "value", "reference", "value", "ratio", "aim", ""],
      ratioRows(r),
    ),
    "",
    box("references", ["reference", "result"], referenceRows(r)),
    "",
    box("micro-benchmarks (mitata)", ["benchmark", "p50 ms", "avg ms"], microRows(r)),
    "",
  ].join("\n");
}

function mdTable(header: string[], rows: string[][]): string {
  const esc = (c: string) => c.replace(/\|/g, "\\|");
  return [
    `| ${header.map(esc).join(" | ")} |`,
    `|${header.map((_, i) => (i === 0 ? "---" : "---:")).join("|")}|`,
    ...rows.map((row) => `| ${row.map(esc).join(" | ")} |`),
  ].join("\n");
}

export function renderMarkdown(r: RunReport): string {
  const m = r.machine;
  const when = r.startedAt.toISOString().replace("T", " ").slice(0, 16);
  const settings = Object.entries(r.settings)
    .map(([k, v]) => `${k} ${v}`)
    .join(", ");
  return [
    `## Run ${when} UTC — \`bun bench${r.mode === "quick" ? " --quick" : ""}\``,
    "",
    `- machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGb} GB RAM, ${m.kernel}; shared with other work (see "everything else" CPU)`,
    `- versions: Bun ${m.bun}, PostgreSQL ${r.versions.postgres}, Kafka ${r.versions.kafka} (3 brokers, RF 3, min ISR 2), Redis ${r.versions.redis}`,
    `- commit: ${m.commit}`,
    `- settings: ${settings}`,
    `- record: order value ${n0(r.record.valueBytes)} B + key ${n0(r.record.keyBytes)} B; ProducerPerformance --record-size ${r.record.perfRecordSize}`,
    `- wall time of the whole run: ${n0(r.durationS)} s`,
    "",
    `### Kafka ON vs OFF (${n0(r.on.count)} orders at max rate, then at half load)`,
    "",
    mdTable(["", "Kafka ON", "Kafka OFF", "ON/OFF"], phaseRows(r)),
    "",
    "### Ratios to the references",
    "",
    mdTable(["shopstream", "value", "reference", "value", "ratio", "aim", ""], ratioRows(r)),
    "",
    "### References",
    "",
    mdTable(["reference", "result"], referenceRows(r)),
    "",
    "### Micro-benchmarks (mitata)",
    "",
    mdTable(["benchmark", "p50 ms", "avg ms"], microRows(r)),
    "",
  ].join("\n");
}

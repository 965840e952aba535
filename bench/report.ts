import type { KafkaClientName } from "../src/config.ts";
import type { MachineInfo } from "./lib/infra.ts";
import { type CpuProfile, shortLocation } from "./lib/profile.ts";
import { cpuAccount } from "./lib/proc.ts";
import { MICRO, type MicroResult } from "./micro.ts";
import type { DrainResult, ProducerResult } from "./procs/job.ts";
import type { ConsumerPerfResult, PerfResult, RedisBenchResult, WriteRefs } from "./references.ts";
import type { PhaseResult } from "./tps.ts";

// The figures of one run as tables: printed on the terminal and appended to bench/RESULTS.md.

export const RSS_LIMIT_MB = 150;

/** One Kafka client's figures in a run. */
export interface ClientRun {
  /** Its producer alone, as ProducerPerformance runs: a fresh topic, nobody consuming, max rate. */
  alone: ProducerResult;
  on: PhaseResult;
  /** Kafka ON again at half the lowest max rate: latency without a backlog. */
  paced: PhaseResult | null;
  naive: ProducerResult;
  /** Its consumer alone reading the topic Kafka ON filled, writing nothing. */
  drain: DrainResult;
  /** Kafka ON once more with the producer and the first order consumer profiled. */
  profile: ClientProfile | null;
}

export interface ClientProfile {
  orders: number;
  /** Orders the profiled consumer wrote (its partition's share). */
  consumerOrders: number;
  /** CPU of the profiled processes (the producer from its first order; the consumer over its life). */
  producerCpuSeconds: number;
  consumerCpuSeconds: number;
  producer: CpuProfile;
  consumer: CpuProfile;
}

export interface RunReport {
  mode: "full" | "quick" | "tiny";
  startedAt: Date;
  durationS: number;
  machine: MachineInfo;
  versions: { postgres: string; redis: string; kafka: string };
  settings: Record<string, string | number>;
  record: { valueBytes: number; keyBytes: number; perfRecordSize: number };
  micro: MicroResult;
  redisBench: RedisBenchResult;
  /** Kafka's ProducerPerformance with its defaults and tuned for throughput (batch.size 1 MB, linger.ms 5). */
  perf: { defaults: PerfResult; tuned: PerfResult };
  consumerPerf: ConsumerPerfResult;
  clients: Partial<Record<KafkaClientName, ClientRun>>;
  off: PhaseResult;
  pacedRate: number;
  pacedOff: PhaseResult;
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

function clientRuns(r: RunReport): [KafkaClientName, ClientRun][] {
  return Object.entries(r.clients) as [KafkaClientName, ClientRun][];
}

/**
 * One row of the ratio table: `value` against `reference`, as value / reference (or reference /
 * value with `inverse`, for times and sizes where less is better); `aim` is the least ratio that
 * meets it, null for a figure only reported.
 */
function compare(
  figure: string,
  value: number,
  reference: string,
  refValue: number,
  aim: number | null,
  opts: { format?: (n: number) => string; inverse?: boolean; aimText?: string } = {},
): Ratio {
  const format = opts.format ?? n0;
  return {
    figure,
    value: format(value),
    reference,
    refValue: format(refValue),
    ratio: opts.inverse ? refValue / value : value / refValue,
    aim,
    aimText: opts.aimText ?? (aim === null ? "report" : `≥ ${aim}`),
  };
}

function clientRatios(r: RunReport, client: KafkaClientName, c: ClientRun): Ratio[] {
  const [worst, worstMb] = Object.entries(clientRss(c)).sort((a, b) => b[1] - a[1])[0] ?? ["-", 0];
  const size = r.record.perfRecordSize;
  return [
    compare(
      `${client}: producer alone, orders/s`,
      c.alone.tps,
      `ProducerPerformance tuned (batch.size 1 MB, linger.ms 5), ${size} B, acks=all`,
      r.perf.tuned.recordsPerSec,
      0.8,
    ),
    compare(
      `${client}: producer alone, orders/s`,
      c.alone.tps,
      "ProducerPerformance with its defaults (batch.size 16 KB, linger.ms 0)",
      r.perf.defaults.recordsPerSec,
      null,
    ),
    compare(`${client}: producer alone, CPU µs per order`, (c.alone.cpuSeconds / c.alone.count) * 1e6, "aim", 12, 1, {
      format: n1,
      inverse: true,
      aimText: "aim/value ≥ 1",
    }),
    compare(
      `${client}: Kafka ON producer, orders/s`,
      c.on.producerTps,
      "naive producer: one awaited send per order, same client",
      c.naive.tps,
      10,
    ),
    compare(
      `${client}: its consumer alone, records/s`,
      c.drain.recordsPerSec,
      "ConsumerPerformance, same topic, one consumer",
      r.consumerPerf.recordsPerSec,
      null,
    ),
    compare(
      `${client}: Kafka ON end to end, orders/s`,
      c.on.e2e.tps,
      "Kafka OFF end to end (same generator → PostgreSQL)",
      r.off.e2e.tps,
      0.8,
    ),
    ...(c.paced
      ? [
          compare(`${client}: p99 end to end at half load, ms`, c.paced.e2e.p99Ms, "aim", 100, 1, {
            format: ms,
            inverse: true,
            aimText: "aim/value ≥ 1",
          }),
        ]
      : []),
    compare(`${client}: peak RSS of its largest pipeline process (${worst}), MB`, worstMb, "limit", RSS_LIMIT_MB, 1, {
      inverse: true,
      aimText: "limit/peak ≥ 1",
    }),
  ];
}

export function ratios(r: RunReport): Ratio[] {
  const m = r.micro.p50Ms;
  const bestPlain = r.refs.rowsPerSec.unnest >= r.refs.rowsPerSec.multirow ? "unnest" : "multirow";
  const write = r.refs.rowsPerSec.insertOrders;
  const copy = r.refs.rowsPerSec.copy;
  const top = m[MICRO.topBuyers] ?? NaN;
  const seq = m[MICRO.sequential] ?? NaN;
  const [worstTool, worstToolMb] = Object.entries(toolRss(r)).sort((a, b) => b[1] - a[1])[0] ?? ["-", 0];
  const writerMb = Math.max(r.off.rss["direct-writer"] ?? 0, r.pacedOff.rss["direct-writer"] ?? 0);
  const speedUp = { format: ms, inverse: true, aimText: "report (speed-up)" };
  return [
    ...clientRuns(r).flatMap(([client, c]) => clientRatios(r, client, c)),
    compare("Kafka OFF end to end, orders/s", r.off.e2e.tps, "COPY of the same rows into an empty orders table", copy, 0.9),
    compare("consumer write path (insertOrders), rows/s", write, "COPY of the same rows (same indexes and constraints)", copy, 0.9),
    compare(
      "consumer write path (insertOrders), rows/s",
      write,
      `best plain batched insert (${bestPlain})`,
      r.refs.rowsPerSec[bestPlain],
      null,
    ),
    compare("top-200 selection p50, ms", top, "1,000 sequential HGETALL p50, ms", seq, 20, {
      format: ms,
      inverse: true,
      aimText: `≥ 20 faster; p50 ≤ 1 ms: ${top <= 1 ? "yes" : "NO"}`,
    }),
    compare(
      "shipped read + top 200 p50, ms",
      m[MICRO.shippedSelect] ?? NaN,
      "1,000 sequential HGETALL + top 200 p50, ms",
      m[MICRO.sequentialSelect] ?? NaN,
      null,
      speedUp,
    ),
    compare("1,000 pipelined HGETALL p50, ms", m[MICRO.pipelined] ?? NaN, "1,000 sequential HGETALL p50, ms", seq, null, speedUp),
    compare(
      "HGETALL cache:users from Bun (ioredis), req/s",
      1000 / (m[MICRO.oneHash] ?? NaN),
      `redis-benchmark HGETALL, same hash, ${r.redisBench.clients} client`,
      r.redisBench.requestsPerSec,
      null,
    ),
    compare("Kafka OFF direct writer peak RSS, MB", writerMb, "limit", RSS_LIMIT_MB, null, { inverse: true }),
    compare(`peak RSS of the bench's own tooling (${worstTool}), MB`, worstToolMb, "limit", RSS_LIMIT_MB, null, { inverse: true }),
  ];
}

/** A client's processes that stand for shopstream's services: the producer and the three order consumers, at max rate and half load. */
function clientRss(c: ClientRun): Record<string, number> {
  const out: Record<string, number> = { "producer alone": c.alone.peakRssMb ?? 0 };
  for (const p of [c.on, c.paced]) for (const [k, v] of Object.entries(p?.rss ?? {})) out[k] = Math.max(out[k] ?? 0, v);
  return out;
}

/** Every process standing for a service, per client, and the direct writer. */
export function pipelineRss(r: RunReport): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [client, c] of clientRuns(r)) for (const [k, v] of Object.entries(clientRss(c))) out[`${client} ${k}`] = v;
  out["direct-writer"] = Math.max(r.off.rss["direct-writer"] ?? 0, r.pacedOff.rss["direct-writer"] ?? 0);
  return out;
}

/** The bench's own processes: the harness, the mitata child and the write-path child. */
export function toolRss(r: RunReport): Record<string, number> {
  return { harness: r.harnessRssMb, micro: r.micro.peakRssMb ?? 0, "write-paths": r.refs.peakRssMb };
}

export function allRss(r: RunReport): Record<string, number> {
  return { ...toolRss(r), ...pipelineRss(r) };
}

function phaseHeader(r: RunReport): string[] {
  return ["", ...clientRuns(r).map(([client]) => `Kafka ON, ${client}`), "Kafka OFF"];
}

function phaseRows(r: RunReport): string[][] {
  const runs = clientRuns(r).map(([, c]) => c);
  const consumerRss = (p: PhaseResult) =>
    Object.entries(p.rss)
      .filter(([k]) => k.startsWith("order-consumer"))
      .map(([, v]) => n0(v))
      .join(" / ");
  const row = (label: string, on: (c: ClientRun) => string, off: string) => [label, ...runs.map(on), off];
  const pacedOn = (c: ClientRun, f: (p: PhaseResult) => string) => (c.paced ? f(c.paced) : "-");
  return [
    row(
      "producer alone (fresh topic, nobody consuming): orders/s / CPU µs per order / peak RSS MB",
      (c) => `${n0(c.alone.tps)} / ${n1((c.alone.cpuSeconds / c.alone.count) * 1e6)} / ${n0(c.alone.peakRssMb ?? 0)}`,
      "",
    ),
    row("orders", (c) => n0(c.on.count), n0(r.off.count)),
    row("producer side, orders/s", (c) => n0(c.on.producerTps), n0(r.off.producerTps)),
    row("CPU of the producing process per order, µs", (c) => n1(c.on.producerCpuUsPerOrder), n1(r.off.producerCpuUsPerOrder)),
    row("end to end, orders/s (generated → row in PostgreSQL)", (c) => n0(c.on.e2e.tps), n0(r.off.e2e.tps)),
    row("end-to-end latency p50, ms", (c) => ms(c.on.e2e.p50Ms), ms(r.off.e2e.p50Ms)),
    row("end-to-end latency p99, ms", (c) => ms(c.on.e2e.p99Ms), ms(r.off.e2e.p99Ms)),
    row("batches written to PostgreSQL: count / mean rows / mean ms", (c) => batchText(c.on), batchText(r.off)),
    row(
      `at half load (${n0(r.pacedRate)} orders/s, ${n0(r.pacedOff.count)} orders): latency p50, ms`,
      (c) => pacedOn(c, (p) => ms(p.e2e.p50Ms)),
      ms(r.pacedOff.e2e.p50Ms),
    ),
    row("at half load: latency p99, ms", (c) => pacedOn(c, (p) => ms(p.e2e.p99Ms)), ms(r.pacedOff.e2e.p99Ms)),
    row("every order in PostgreSQL exactly once (max rate and half load)", (c) => yes(c.on, c.paced), yes(r.off, r.pacedOff)),
    row("peak RSS, MB: producer process / direct writer", (c) => n0(c.on.rss.producer ?? 0), n0(r.off.rss["direct-writer"] ?? 0)),
    row("peak RSS, MB: the three order consumers", (c) => consumerRss(c.on), ""),
    row("CPU: machine busy", (c) => `${Math.round(c.on.cpu.busy * 100)} %`, `${Math.round(r.off.cpu.busy * 100)} %`),
  ];
}

/** The kinds of process a phase's CPU is split into, in the order the account lists them. */
const ACCOUNT: [group: string, label: string][] = [
  ["producer", "producer process (generate, encode, send)"],
  ["direct-writer", "direct writer (generate, write to PostgreSQL)"],
  ["consumers", "order consumers, all three (fetch, decode, write)"],
  ["brokers", "Kafka brokers, all three"],
  ["postgres", "PostgreSQL backends of the run"],
  ["harness", "bench harness (progress polls)"],
  ["other", "everything else on the machine"],
  ["total", "whole machine (all of the above)"],
];

/** CPU µs per order of each kind of process, at max rate: ON per client and OFF. */
function accountRows(r: RunReport): string[][] {
  const phases = [...clientRuns(r).map(([, c]) => c.on), r.off];
  const accounts = phases.map((p) => cpuAccount(p.cpu, p.count));
  return ACCOUNT.filter(([g]) => accounts.some((a) => (a[g] ?? 0) > 0)).map(([g, label]) => [
    label,
    ...accounts.map((a) => (a[g] === undefined ? "" : n1(a[g]))),
  ]);
}

/** The hottest functions of a profile: their share of its samples, and that share of the process's CPU per order. */
function profileRows(p: CpuProfile, orders: number, cpuSeconds: number, top = 12): string[][] {
  const usPerOrder = (cpuSeconds * 1e6) / Math.max(1, orders);
  return p.hot.slice(0, top).map((f) => {
    const share = f.selfSamples / Math.max(1, p.samples);
    return [f.name, shortLocation(f.location), `${(share * 100).toFixed(1)} %`, n1(share * usPerOrder)];
  });
}

function profileSections(r: RunReport, render: (title: string, header: string[], rows: string[][]) => string): string[] {
  const header = ["function (self)", "where", "share of CPU samples", "µs per order"];
  return clientRuns(r).flatMap(([client, c]) => {
    const p = c.profile;
    if (!p) return [];
    const cpu = (s: number, n: number) => `${n1((s * 1e6) / Math.max(1, n))} µs CPU per order`;
    return [
      render(
        `${client} producer, profiled (${n0(p.orders)} orders, ${n0(p.producer.samples)} samples; ${cpu(p.producerCpuSeconds, p.orders)})`,
        header,
        profileRows(p.producer, p.orders, p.producerCpuSeconds),
      ),
      render(
        `${client} order consumer 1, profiled (${n0(p.consumerOrders)} of ${n0(p.orders)} orders, its partition; ${n0(p.consumer.samples)} samples; ${cpu(p.consumerCpuSeconds, p.consumerOrders)})`,
        header,
        profileRows(p.consumer, p.consumerOrders, p.consumerCpuSeconds),
      ),
    ];
  });
}

function yes(...phases: (PhaseResult | null)[]): string {
  return phases.every((p) => p?.exactlyOnce) ? "yes" : "NO";
}

function batchText(p: PhaseResult): string {
  return `${n0(p.batches.count)} / ${n0(p.batches.meanRows)} / ${ms(p.batches.meanWriteMs)}`;
}

function referenceRows(r: RunReport): string[][] {
  const w = r.refs;
  const perf = (p: PerfResult) => `${n0(p.recordsPerSec)} records/s, ${n1(p.mbPerSec)} MB/s, p50 ${p.p50Ms} ms, p99 ${p.p99Ms} ms`;
  return [
    [
      `Apache Kafka ProducerPerformance, its defaults (${n0(r.perf.defaults.records)} × ${r.record.perfRecordSize} B, acks=all)`,
      perf(r.perf.defaults),
    ],
    [`Apache Kafka ProducerPerformance, batch.size=1048576 linger.ms=5 (${n0(r.perf.tuned.records)} records)`, perf(r.perf.tuned)],
    [
      `Apache Kafka ConsumerPerformance (${n0(r.consumerPerf.records)} records of the Kafka ON topic, one consumer)`,
      `${n0(r.consumerPerf.recordsPerSec)} records/s, ${n1(r.consumerPerf.mbPerSec)} MB/s`,
    ],
    ...clientRuns(r).flatMap(([client, c]) => [
      [`${client}: naive producer (${n0(c.naive.count)} orders, one awaited send each)`, `${n0(c.naive.tps)} orders/s`],
      [
        `${client}: its consumer alone (${n0(c.drain.count)} records, one consumer, nothing written)`,
        `${n0(c.drain.recordsPerSec)} records/s, ${n1((c.drain.cpuSeconds / c.drain.count) * 1e6)} µs CPU per record`,
      ],
    ]),
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
    box(`Kafka ON vs OFF — ${n0(r.off.count)} orders at max rate, then at half load`, phaseHeader(r), phaseRows(r)),
    "",
    box(
      "shopstream figures as ratios to their references (same run)",
      ["shopstream", "value", "reference", "value", "ratio", "aim", ""],
      ratioRows(r),
    ),
    "",
    box("CPU account at max rate, µs per order", phaseHeader(r), accountRows(r)),
    "",
    ...profileSections(r, (title, header, rows) => `${box(title, header, rows)}\n`),
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
    `## Run ${when} UTC — \`bun bench --client ${Object.keys(r.clients).length > 1 ? "both" : Object.keys(r.clients)[0]}${r.mode === "full" ? "" : ` --${r.mode}`}\``,
    "",
    `- machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGb} GB RAM, ${m.kernel}; shared with other work (see "everything else" CPU)`,
    `- versions: Bun ${m.bun}, PostgreSQL ${r.versions.postgres}, Kafka ${r.versions.kafka} (3 brokers, RF 3, min ISR 2), Redis ${r.versions.redis}`,
    `- commit: ${m.commit}`,
    `- settings: ${settings}`,
    `- record: order value ${n0(r.record.valueBytes)} B + key ${n0(r.record.keyBytes)} B; ProducerPerformance --record-size ${r.record.perfRecordSize}`,
    `- wall time of the whole run: ${n0(r.durationS)} s`,
    "",
    `### Kafka ON vs OFF (${n0(r.off.count)} orders at max rate, then at half load)`,
    "",
    mdTable(phaseHeader(r), phaseRows(r)),
    "",
    "### Ratios to the references",
    "",
    mdTable(["shopstream", "value", "reference", "value", "ratio", "aim", ""], ratioRows(r)),
    "",
    "### CPU account at max rate, µs per order (CPU time of each kind of process ÷ orders)",
    "",
    mdTable(phaseHeader(r), accountRows(r)),
    "",
    "### CPU profiles (Bun --cpu-prof-md), hottest functions by self time",
    "",
    ...profileSections(r, (title, header, rows) => `${title}\n\n${mdTable(header, rows)}\n`),
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

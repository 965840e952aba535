import type { KafkaClientName } from "../src/config.ts";
import { PERF_SETTINGS, runProducerPerformance } from "./references.ts";
import { type BenchContext, fmt, type ProducerSettings, runProducerOnly } from "./tps.ts";
import { withSpinner } from "./lib/progress.ts";

// `bun run bench -- --sweep`: the BatchingProducer knobs side by side on the same cluster, each
// against fresh topics with nobody consuming, and ProducerPerformance around them as the reference.
// This is how the shipped defaults were chosen (bench/RESULTS.md).

export const SWEEP: ProducerSettings[] = [
  { maxBatch: 500, lingerMs: 5, compression: "none" },
  { maxBatch: 1000, lingerMs: 5, compression: "none" },
  { maxBatch: 2000, lingerMs: 5, compression: "none" },
  { maxBatch: 2000, lingerMs: 20, compression: "none" },
  { maxBatch: 4000, lingerMs: 5, compression: "none" },
  { maxBatch: 2000, lingerMs: 5, compression: "gzip" },
  { maxBatch: 8000, lingerMs: 5, compression: "gzip" },
];

export interface SweepRow {
  settings: string;
  /** one figure per round */
  ordersPerSec: number[];
  peakRssMb: number;
  cpuSeconds: number;
}

/** Every setting twice, the second round in reverse order, with ProducerPerformance before, between and after. */
export async function runSweep(
  ctx: BenchContext,
  client: KafkaClientName,
  count: number,
  recordSize: number,
): Promise<{ perf: number[]; rows: SweepRow[] }> {
  const perf: number[] = [];
  const rows: SweepRow[] = SWEEP.map((s) => ({
    settings: `maxBatch ${s.maxBatch}, linger ${s.lingerMs} ms, ${s.compression}`,
    ordersPerSec: [],
    peakRssMb: 0,
    cpuSeconds: 0,
  }));
  const reference = async () => {
    const r = await withSpinner(
      "ProducerPerformance",
      count / 15_000 + 3,
      runProducerPerformance(ctx, count, recordSize, PERF_SETTINGS.tuned),
      false,
      (p) => `${fmt(p.recordsPerSec)} records/s`,
    );
    perf.push(r.recordsPerSec);
  };
  await reference();
  for (const round of [0, 1]) {
    const order = SWEEP.map((_, i) => i);
    if (round === 1) order.reverse();
    for (const i of order) {
      const row = rows[i] as SweepRow;
      const r = await withSpinner(
        row.settings,
        count / 20_000 + 2,
        runProducerOnly(ctx, client, count, SWEEP[i] as ProducerSettings),
        false,
        (p) => `${fmt(p.tps)} orders/s`,
      );
      row.ordersPerSec.push(r.tps);
      row.peakRssMb = Math.max(row.peakRssMb, r.peakRssMb ?? 0);
      row.cpuSeconds += r.cpuSeconds / 2;
    }
    await reference();
  }
  return { perf, rows };
}

export function renderSweep(
  client: KafkaClientName,
  count: number,
  recordSize: number,
  result: { perf: number[]; rows: SweepRow[] },
  when: Date,
  commit: string,
): string {
  const meanPerf = result.perf.reduce((s, v) => s + v, 0) / result.perf.length;
  const lines = [
    `## Producer sweep ${when.toISOString().replace("T", " ").slice(0, 16)} UTC — \`bun run bench -- --sweep\``,
    "",
    `- commit: ${commit}; client ${client}; ${fmt(count)} orders per setting and round, acks=all, idempotent, fresh 3-partition RF 3 topic each, nobody consuming; two rounds, the second in reverse order`,
    `- ProducerPerformance (${recordSize} B records, acks=all, batch.size=1048576 linger.ms=5) before / between / after: ${result.perf.map((p) => fmt(p)).join(" / ")} records/s`,
    "",
    "| BatchingProducer settings | orders/s, round 1 / 2 | best × ProducerPerformance (mean) | peak RSS MB | CPU s per run |",
    "|---|---:|---:|---:|---:|",
    ...result.rows.map(
      (r) =>
        `| ${r.settings} | ${r.ordersPerSec.map((v) => fmt(v)).join(" / ")} | ${(Math.max(...r.ordersPerSec) / meanPerf).toFixed(2)} | ${fmt(r.peakRssMb)} | ${r.cpuSeconds.toFixed(1)} |`,
    ),
    "",
  ];
  return lines.join("\n");
}

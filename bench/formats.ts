import type { KafkaClientName } from "../src/config.ts";
import { FORMATS, type Format } from "../src/schema-formats.ts";
import { withSpinner } from "./lib/progress.ts";
import { resultsHeader } from "./lib/results.ts";
import type { ProducerResult } from "./procs/job.ts";
import { type BenchContext, fmt, type PhaseResult, runKafkaOn, runProducerOnly } from "./tps.ts";

// `bun bench --formats`: the producer alone and the whole pipeline (producer → Kafka → three orders
// consumers → PostgreSQL) in each format beside JSON, in one run, against the schema registry
// deploy/local/infra.sh runs: orders/s, CPU µs per order, bytes per record as sent and on disk.

export interface FormatRow {
  format: Format;
  /** One run per round: the formats in turn, then in reverse (the machine's drift falls on all alike). */
  alone: ProducerResult[];
  on: PhaseResult[];
}

/** Each format's producer alone, then its whole pipeline; two rounds, the second in reverse order. */
export async function runFormats(ctx: BenchContext, client: KafkaClientName, count: number): Promise<FormatRow[]> {
  const rows: FormatRow[] = FORMATS.map((format) => ({ format, alone: [], on: [] }));
  for (const round of [0, 1]) {
    const order = round === 0 ? rows : [...rows].reverse();
    for (const row of order) {
      const { format } = row;
      const alone = await withSpinner(
        `${format}: producer alone`,
        count / 20_000 + 3,
        runProducerOnly(ctx, client, count, { format }),
        false,
        (r) => `${fmt(r.tps)} orders/s`,
      );
      const on = await runKafkaOn(ctx, client, count, { format });
      if (!on.exactlyOnce) throw new Error(`${format}: the pipeline did not store every order exactly once`);
      row.alone.push(alone);
      row.on.push(on);
    }
  }
  return rows;
}

const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

export function renderFormats(client: KafkaClientName, count: number, rows: readonly FormatRow[], command: string): string {
  const json = rows.find((r) => r.format === "json") as FormatRow;
  const us = (seconds: number) => (seconds * 1e6) / count;
  const aloneTps = (r: FormatRow) => mean(r.alone.map((a) => a.tps));
  const onTps = (r: FormatRow) => mean(r.on.map((o) => o.e2e.tps));
  const consumerUs = (r: FormatRow) => mean(r.on.map((o) => us(Object.values(o.consumerCpuSeconds).reduce((a, b) => a + b, 0))));
  const both = (xs: readonly number[]) => xs.map((x) => fmt(x)).join(" / ");
  const ratio = (a: number, b: number) => `${(a / b).toFixed(2)}×`;
  const lines = rows.map((r) => {
    const disk = r.alone[0]?.diskBytes == null ? "–" : fmt((r.alone[0].diskBytes as number) / 3 / count, 1);
    return `| ${r.format} | ${both(r.alone.map((a) => a.tps))} (${ratio(aloneTps(r), aloneTps(json))}) | ${fmt(mean(r.alone.map((a) => us(a.cpuSeconds))), 1)} | ${both(r.on.map((o) => o.e2e.tps))} (${ratio(onTps(r), onTps(json))}) | ${fmt(mean(r.on.map((o) => o.producerCpuUsPerOrder)), 1)} | ${fmt(consumerUs(r), 1)} (${ratio(consumerUs(r), consumerUs(json))}) | ${fmt(r.alone[0]?.valueBytes ?? 0, 1)} | ${disk} | ${r.on.every((o) => o.exactlyOnce) ? "yes" : "NO"} |`;
  });
  return [
    resultsHeader(`Formats (${client}, ${fmt(count)} orders a run, two rounds)`, command),
    "",
    "Orders/s: round 1 / round 2 (the second in reverse order), the ratio of their means to JSON's; CPU: the mean of both rounds.",
    "",
    "| format | producer alone, orders/s (vs JSON) | producer alone, CPU µs/order | whole pipeline, orders/s (vs JSON) | pipeline producer, CPU µs/order | orders consumers, CPU µs/order (vs JSON) | value bytes sent | bytes on disk per record (one replica) | exactly once |",
    "|---|---|---|---|---|---|---|---|---|",
    ...lines,
  ].join("\n");
}

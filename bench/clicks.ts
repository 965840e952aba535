import type { KafkaClientName } from "../src/config.ts";
import { resultsHeader } from "./lib/results.ts";
import { type BenchContext, type ClicksResult, fmt, type PhaseResult, runKafkaOn } from "./tps.ts";

// `bun bench --clicks` (and every full run): the whole pipeline with the clickstream on beside
// orders alone, in one run: the producer also publishes the sessions behind each order (about 40
// page events) and three clicks consumers land them. Records/s end to end, against orders alone
// in as many records, is what a page event costs beside an order.

export interface ClicksRow {
  alone: PhaseResult;
  withClicks: PhaseResult & { clicks?: ClicksResult };
}

/**
 * The pipeline with clicks on `count` orders, and orders alone on as many records as that run
 * stored (the same volume through the same pipeline, at steady state); two rounds, the second
 * in reverse order, so the machine's drift falls on both alike.
 */
export async function runClicks(ctx: BenchContext, client: KafkaClientName, count: number): Promise<ClicksRow[]> {
  const rounds: ClicksRow[] = [];
  const on = (orders: number, clicks: boolean) => runKafkaOn(ctx, client, orders, { clicks });
  let records = 0;
  for (const round of [0, 1]) {
    let withClicks: ClicksRow["withClicks"];
    let alone: PhaseResult;
    if (round === 0) {
      withClicks = await on(count, true);
      records = withClicks.clicks?.records ?? count;
      alone = await on(records, false);
    } else {
      alone = await on(records, false);
      withClicks = await on(count, true);
    }
    if (!withClicks.clicks) throw new Error("the run with clicks reported no clicks");
    if (!alone.exactlyOnce || !withClicks.exactlyOnce) throw new Error("not every order and click was stored exactly once");
    rounds.push({ alone, withClicks });
  }
  return rounds;
}

export function renderClicks(client: KafkaClientName, count: number, rows: readonly ClicksRow[], command: string): string {
  const consumerUs = (p: PhaseResult, records: number) => (Object.values(p.consumerCpuSeconds).reduce((a, b) => a + b, 0) * 1e6) / records;
  const lines = rows.flatMap((r, i) => {
    const c = r.withClicks.clicks as ClicksResult;
    const round = `round ${i + 1}`;
    return [
      `| ${round}, orders alone | ${fmt(r.alone.count)} | ${fmt(r.alone.e2e.tps)} | ${fmt(r.alone.e2e.tps)} | ${fmt(r.alone.producerCpuUsPerOrder, 1)} | ${fmt(consumerUs(r.alone, r.alone.count), 1)} | ${r.alone.exactlyOnce ? "yes" : "NO"} |`,
      `| ${round}, with clicks | ${fmt(c.records)} (${fmt(c.events / count, 1)} clicks an order, ${fmt(c.sessions)} sessions) | ${fmt(c.recordsPerSec)} | ${fmt(count / c.spanS)} | ${fmt((r.withClicks.producerCpuUsPerOrder * count) / c.records, 1)} | ${fmt(consumerUs(r.withClicks, c.records), 1)} | ${r.withClicks.exactlyOnce ? "yes" : "NO"} |`,
    ];
  });
  const ratio = (f: (r: ClicksRow) => number) => rows.reduce((s, r) => s + f(r), 0) / rows.length;
  const recordsRatio = ratio((r) => (r.withClicks.clicks as ClicksResult).recordsPerSec / r.alone.e2e.tps);
  const clicksPerOrder = ratio((r) => (r.withClicks.clicks as ClicksResult).events / count);
  return [
    resultsHeader(`Clicks (${client}, ${fmt(count)} orders a run, two rounds)`, command),
    "",
    `The whole pipeline (producer → Kafka → consumers → PostgreSQL): ${fmt(count)} orders with the sessions behind them (\`--clicks\`: three more consumers, for the clicks topic), and orders alone in the same number of records. Records: orders and page events stored, from the first order generated to the last record stored (orders alone: their commit times; with clicks: the harness's poll, every 200 ms); CPU per record over both, each consumer's whole life (its start included).`,
    "",
    "| run | records | records/s end to end | orders/s end to end | producer CPU µs/record | consumers CPU µs/record | exactly once |",
    "|---|---|---|---|---|---|---|",
    ...lines,
    "",
    `With clicks the pipeline moves ${recordsRatio.toFixed(2)}× the records per second of orders alone; with ${clicksPerOrder.toFixed(1)} clicks an order, a shop's orders flow at ${(recordsRatio / (clicksPerOrder + 1)).toFixed(3)}× the rate of orders alone.`,
  ].join("\n");
}

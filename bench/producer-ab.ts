import { parseArgs } from "node:util";
import { join } from "node:path";
import type { KafkaClientName } from "../src/config.ts";
import { resultsHeader, appendResults } from "./lib/results.ts";
import { spawnChild } from "./lib/proc.ts";
import type { ProducerJob, ProducerResult } from "./procs/job.ts";
import { closeBench, openBench, topicPrefixOf, type BenchContext } from "./tps.ts";
import { ensureTopics } from "../src/kafka/client.ts";
import { topicNames } from "../src/kafka/topics.ts";

// `bun run bench/producer-ab.ts --other ../other-checkout [--client platformatic] [--orders 100000]
// [--rounds 3] [--record]`: the producer alone (bench/procs/producer.ts: the shipped generator,
// envelope and BatchingProducer at max rate, fresh topic, nobody consuming) from this checkout (A)
// and from another checkout of the project (B), in turn (A B B A …) on the same cluster and cache,
// so a change to the producer's hot path is measured side by side: orders/s and CPU µs per order.

const { values: flags } = parseArgs({
  args: Bun.argv.slice(2),
  options: {
    other: { type: "string" },
    client: { type: "string", default: "platformatic" },
    orders: { type: "string", default: "100000" },
    rounds: { type: "string", default: "3" },
    record: { type: "boolean", default: false },
    "b-env": { type: "string", multiple: true, default: [] },
  },
});
// --b-env K=V: B runs with these variables on top (e.g. the same checkout with another heap size)
const bEnv = Object.fromEntries((flags["b-env"] ?? []).map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)]));
if (!flags.other) {
  console.error("--other: the checkout to compare against (B)");
  process.exit(2);
}
const client = flags.client as KafkaClientName;
const count = Number(flags.orders);
const rounds = Number(flags.rounds);
const trees = { A: join(import.meta.dir, ".."), B: flags.other };

async function once(ctx: BenchContext, tree: string, env: Record<string, string>): Promise<ProducerResult> {
  const names = topicNames(`${ctx.topicPrefix}ab${++ctx.phases}.`);
  await ensureTopics(ctx.admin, names);
  const job: ProducerJob = {
    mode: "batching",
    count,
    seed: `${ctx.seed}:ab`,
    topicPrefix: topicPrefixOf(names),
    cachePrefix: ctx.cachePrefix,
  };
  // BENCH_CPU_PROF=<dir>: each run writes a CPU profile there (Bun's --cpu-prof-md)
  const prof = process.env.BENCH_CPU_PROF ? ["--cpu-prof-md", `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`] : [];
  const child = spawnChild("producer", [process.execPath, ...prof, "run", join(tree, "bench/procs/producer.ts")], {
    KAFKA_CLIENT: client,
    BUN_JSC_forceRAMSize: String(ctx.config.serviceRamBytes),
    BENCH_JOB: JSON.stringify(job),
    ...env,
  });
  const r = await child.result<ProducerResult>();
  await ctx.admin.deleteTopics([names.topic("orders")]).catch(() => {});
  ctx.deleted.add(names.topic("orders"));
  return r;
}

const ctx = await openBench({ quiet: true });
const out: Record<"A" | "B", ProducerResult[]> = { A: [], B: [] };
try {
  for (let round = 0; round < rounds; round++) {
    for (const side of round % 2 === 0 ? (["A", "B"] as const) : (["B", "A"] as const)) {
      const r = await once(ctx, trees[side], side === "B" ? bEnv : {});
      out[side].push(r);
      console.error(
        `round ${round + 1} ${side}: ${Math.round(r.tps)} orders/s, ${((r.cpuSeconds / r.count) * 1e6).toFixed(1)} µs CPU per order, ${Math.round(r.peakRssMb ?? 0)} MB`,
      );
    }
  }
} finally {
  await closeBench(ctx);
}
const median = (xs: number[]) => [...xs].sort((p, q) => p - q)[Math.floor(xs.length / 2)] ?? Number.NaN;
const us = (r: ProducerResult) => (r.cpuSeconds / r.count) * 1e6;
const line = (side: "A" | "B") =>
  `| ${side}: ${trees[side]}${side === "B" && flags["b-env"]?.length ? ` with ${flags["b-env"].join(" ")}` : ""} | ${Math.round(median(out[side].map((r) => r.tps))).toLocaleString("en-US")} | ${median(out[side].map(us)).toFixed(1)} | ${Math.round(Math.max(...out[side].map((r) => r.peakRssMb ?? 0)))} |`;
const pairs = out.B.map((b, i) => (b.tps / (out.A[i]?.tps ?? Number.NaN)).toFixed(2)).join(" / ");
const table = [
  `| producer (${client}, ${count.toLocaleString("en-US")} orders) | orders/s | CPU µs per order | peak RSS MB |`,
  "|---|---:|---:|---:|",
  line("A"),
  line("B"),
  "",
  `B/A orders/s pair by pair: ${pairs}`,
].join("\n");
console.log(table);
if (flags.record)
  appendResults(
    `${resultsHeader("Producer A/B", `bun run bench/producer-ab.ts --other B${(flags["b-env"] ?? []).map((e) => ` --b-env ${e}`).join("")} --client ${client} --orders ${count} --rounds ${rounds} --record`)}\n\n${table}`,
  );

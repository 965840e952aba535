import { readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connectRedis, deleteByPrefix } from "../src/cache/client.ts";
import { connect, dropDatabase, ensureDatabase } from "../src/db/client.ts";
import { connectAdmin, createKafkaClient } from "../src/kafka/client.ts";
import { topicNames } from "../src/kafka/topics.ts";
import { loadConfig } from "../src/config.ts";
import { readTopic } from "../src/kafka/read-topic.ts";
import { PrivateKafka } from "../support/kafka-cluster.ts";
import { appendResults, resultsHeader } from "./lib/results.ts";
import { createdIds } from "../support/events.ts";

// `bun run bench/broker-kill.ts [--rate 3000] [--record]`: the whole pipeline (`start:all --rate R`)
// on a private 3-broker cluster; one broker is SIGKILLed after a steady phase and restarted 25 s
// later. Samples the orders stored in PostgreSQL every second and reports the throughput dip, the
// time until orders arrive again and until the rate is back, and the exactly-once counts after a
// Ctrl-C (SIGINT) stop. The shared cluster and any running pipeline are not touched.

const arg = (name: string, fallback: number) => {
  const i = Bun.argv.indexOf(`--${name}`);
  return i > 0 ? Number(Bun.argv[i + 1]) : fallback;
};
const RATE = arg("rate", 3000);
const STEADY_S = arg("steady", 25);
const DOWN_S = arg("down", 25);
const AFTER_S = arg("after", 35);
const ROOT = join(import.meta.dir, "..");
const suffix = `${Date.now().toString(36)}`;
const config = loadConfig();
const dbUrl = new URL(config.databaseUrl);
dbUrl.pathname = `/shopstream_bench_brokerkill_${suffix}`;
const prefix = `bench.brokerkill.${suffix}.`;
const logFile = join(tmpdir(), `shopstream-brokerkill-${suffix}.log`);

const cluster = new PrivateKafka();
console.error(`starting a private cluster on ${cluster.brokers.join(",")}`);
await cluster.start();
await ensureDatabase(dbUrl.toString());
const sql = connect(dbUrl.toString(), { max: 1 });
const env = {
  ...process.env,
  DATABASE_URL: dbUrl.toString(),
  KAFKA_BROKERS: cluster.brokers.join(","),
  TOPIC_PREFIX: prefix,
  CACHE_PREFIX: `bench:brokerkill:${suffix}:`,
  METRICS_PORT: "0",
};
const out = Bun.file(logFile).writer();
const pipeline = Bun.spawn([process.execPath, "run", join(ROOT, "src/cli/start-all.ts"), "--rate", String(RATE)], {
  env,
  stdout: "pipe",
  stderr: "pipe",
  detached: true,
});
const drain = async (s: ReadableStream<Uint8Array>) => {
  for await (const c of s) out.write(c);
};
const drained = Promise.all([drain(pipeline.stdout), drain(pipeline.stderr)]);

const stored = async () => {
  try {
    return (await sql`select count(*)::int as n from orders`)[0]!.n as number;
  } catch {
    return 0; // not migrated yet
  }
};
const samples: { t: number; n: number }[] = [];
let t0 = 0;
let sampling = true;
/** One sample a second, on its own clock, whatever the fault steps are doing meanwhile. */
const sampler = async () => {
  for (let next = performance.now() + 1000; sampling; next += 1000) {
    await Bun.sleep(Math.max(0, next - performance.now()));
    samples.push({ t: (performance.now() - t0) / 1000, n: await stored() });
  }
};
const sampleFor = (seconds: number) => Bun.sleep(seconds * 1000);

// wait for orders to flow, then measure
const startDeadline = Date.now() + 120_000;
while ((await stored()) < RATE) {
  if (Date.now() > startDeadline) throw new Error(`no orders after 120 s; see ${logFile}`);
  await Bun.sleep(500);
}
t0 = performance.now();
samples.push({ t: 0, n: await stored() });
const sampled = sampler();
await sampleFor(STEADY_S);
const killAt = (performance.now() - t0) / 1000;
await cluster.kill(1);
await sampleFor(DOWN_S);
const restartAt = (performance.now() - t0) / 1000;
await cluster.restart(1);
await sampleFor(AFTER_S);
sampling = false;
await sampled;

process.kill(-pipeline.pid, "SIGINT"); // as Ctrl-C: start:all's staged stop
const code = await pipeline.exited;
await drained;
await out.end();
const log = readFileSync(logFile, "utf8");

// exactly once: Kafka's distinct order ids against PostgreSQL's
const client = await createKafkaClient({ ...config, kafkaBrokers: cluster.brokers }, "bench-brokerkill");
const admin = await connectAdmin(client);
const names = topicNames(prefix);
const published = await readTopic(client, admin, names.topic("orders"));
const kafkaIds = new Set(createdIds(published));
const storedIds = (await sql`select id from orders`).map((r) => r.id as string);
const missing =
  storedIds.length === kafkaIds.size && storedIds.every((id) => kafkaIds.has(id)) ? 0 : Math.abs(kafkaIds.size - storedIds.length) || -1;
await admin.close();
const stoppedLine = /stopped: (\d+) orders generated, (\d+) acknowledged/.exec(log);

// the figures
const rates = samples.slice(1).map((s, i) => ({ t: s.t, rate: s.n - (samples[i] as { n: number }).n }));
const steady = rates.filter((r) => r.t > 5 && r.t <= killAt);
const baseline = steady.reduce((s, r) => s + r.rate, 0) / Math.max(1, steady.length);
const afterKill = rates.filter((r) => r.t > killAt);
const dipWindow = afterKill.filter((r) => r.t <= killAt + 15);
const worst = Math.min(...dipWindow.map((r) => r.rate));
const backAt = afterKill.find((r) => r.t > killAt + 1 && r.rate >= 0.9 * baseline);
// the longest run of seconds after the kill in which nothing at all was stored
let stall = 0;
for (let run = 0, i = 0; i < afterKill.length; i++) {
  run = (afterKill[i] as { rate: number }).rate === 0 ? run + 1 : 0;
  stall = Math.max(stall, run);
}
const lines = log.split("\n");
const perOrderLines = lines.filter((l) => /\bO_[0-9a-f-]{8,}/.test(l)).length;
const warnLines = lines.filter((l) => /WARN|ERROR/.test(l)).length;
const fmt = (n: number) => Math.round(n).toLocaleString("en");
const report = [
  resultsHeader(
    `Broker SIGKILL under start:all --rate ${RATE}`,
    `bun run bench/broker-kill.ts --rate ${RATE}`,
    "shared, noisy; the idle shared cluster was up too",
  ),
  `- setup: private 3-broker cluster, RF 3, min ISR 2, acks=all; broker 1 SIGKILLed at ${killAt.toFixed(0)} s, restart begun at ${restartAt.toFixed(0)} s`,
  `- stored in PostgreSQL before the kill: ${fmt(baseline)} orders/s (mean of ${steady.length} one-second samples; reference: the --rate asked for, ${fmt(RATE)}/s → ${(baseline / RATE).toFixed(2)}×)`,
  `- after the kill: longest stall ${stall} s with no order stored (aim: orders arriving within 15 s); worst second in the 15 s after: ${fmt(worst)} orders/s (${(worst / baseline).toFixed(2)}× baseline); back to ≥ 90 % of baseline ${backAt ? `${(backAt.t - killAt).toFixed(0)} s after the kill` : "not within the run"}`,
  `- per-second stored rate: ${rates.map((r) => r.rate).join(" ")}`,
  `- stop by SIGINT: start:all exit ${code}; producer ${stoppedLine ? `${fmt(Number(stoppedLine[1]))} generated, ${fmt(Number(stoppedLine[2]))} acknowledged` : "line missing"}; Kafka ${fmt(published.length)} records / ${fmt(kafkaIds.size)} distinct ids; PostgreSQL ${fmt(storedIds.length)} orders; ids equal: ${missing === 0 ? "yes" : "NO"}`,
  `- log: ${fmt(lines.length)} lines in all, ${warnLines} WARN/ERROR lines, ${perOrderLines} naming an order`,
].join("\n");
console.log(report);
if (Bun.argv.includes("--record")) appendResults(report);

await sql.end();
await dropDatabase(dbUrl.toString());
const redis = connectRedis(config.redisUrl);
await deleteByPrefix(redis, env.CACHE_PREFIX);
redis.disconnect();
await cluster.destroy();
console.error(`full log: ${logFile}`);

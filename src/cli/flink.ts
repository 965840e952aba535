import { parseArgs } from "node:util";
import { loadConfig } from "../config.ts";
import { ConfigError } from "../env-reader.ts";
import { openDatabase } from "../db/open.ts";
import { describe } from "../errors.ts";
import { connectRedis } from "../cache/client.ts";
import { publishMetrics } from "../metrics/publish.ts";
import { flinkJob } from "../metrics/registry.ts";
import { flinkClasspath, flinkJobCommand, flinkJobEnv } from "./flink-job.ts";
import { flagsOrUsage } from "./usage.ts";

// `bun run flink [orders] [revenue] [--bounded] [--parallelism N] [--group G] [--table T]`:
// shopstream's Flink SQL jobs (flink/, docs/flink.md) in a local mini-cluster, on the pipeline's own
// settings (KAFKA_BROKERS, TOPIC_PREFIX, DATABASE_URL): the orders topic upserted into flink_orders,
// and revenue per category per minute into category_revenue_minute. Built by Maven when the jobs'
// sources changed (deploy/local/infra.sh flink-classpath); Ctrl-C stops the job. Its state goes to
// /metrics and the live page as every service's figures do (shopstream_flink_job_state).

const USAGE = `usage: bun run flink [orders] [revenue] [--bounded] [--parallelism N] [--group G] [--table T]
  orders          the orders topic's new orders upserted into PostgreSQL (flink_orders)
  revenue         revenue per category per minute of order time into category_revenue_minute
                  (both when neither is named)
  --bounded       stop at the end of what the topic holds when the job starts
  --parallelism N readers and writers (default KAFKA_PARTITIONS)
  --group G       the job's Kafka consumer group (default <TOPIC_PREFIX>flink_group)
  --table T       where the orders go (default flink_orders; the pipeline's own orders table only in a database of its own)`;

/** The flags checked here first (the job checks them again): a bad one costs no build and no JVM. */
function parseFlinkFlags(argv: string[]): { help: boolean; jobs: string[] } {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      bounded: { type: "boolean" },
      parallelism: { type: "string" },
      group: { type: "string" },
      table: { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
    allowPositionals: true,
    strict: true,
  });
  for (const p of positionals) if (p !== "orders" && p !== "revenue") throw new Error(`unknown job: ${p} (orders or revenue)`);
  if (values.parallelism !== undefined && !/^[1-9]\d*$/.test(values.parallelism))
    throw new Error(`--parallelism: expected a whole number of at least 1, got "${values.parallelism}"`);
  if (values.table !== undefined && !/^[a-z_][a-z0-9_]{0,62}$/.test(values.table))
    throw new Error(`--table: expected a lower-case table name, got "${values.table}"`);
  return { help: values.help ?? false, jobs: positionals.length ? [...new Set(positionals)].sort() : ["orders", "revenue"] };
}

async function main(): Promise<number> {
  const argv = Bun.argv.slice(2);
  const flags = flagsOrUsage(USAGE, () => parseFlinkFlags(argv));
  if (!flags) return typeof process.exitCode === "number" ? process.exitCode : 0;
  const config = loadConfig();
  let child: ReturnType<typeof Bun.spawn> | null = null;
  // the signal goes on to what runs now, the build or the job (a Ctrl-C reaches both anyway: one process group)
  let stopped = false;
  process.on("SIGINT", () => {
    stopped = true;
    child?.kill("SIGINT");
  });
  process.on("SIGTERM", () => {
    stopped = true;
    child?.kill("SIGTERM");
  });
  // the tables it writes, made as every service makes them
  await (await openDatabase(config.databaseUrl, { max: 1 })).end();
  const classpath = await flinkClasspath((build) => (child = build));
  if (classpath === null) return 1;
  const job = Bun.spawn(flinkJobCommand(classpath, argv), {
    env: { ...process.env, ...flinkJobEnv(config) },
    stdio: ["inherit", "inherit", "inherit"],
  });
  child = job;
  // the job's state in /metrics and on the live page while it runs, and how it ended
  const redis = connectRedis(config.redisUrl);
  flinkJob.set({ state: "RUNNING" }, 1);
  // one entry per run, named by its jobs: a run that failed is not hidden by another still running
  const stopMetrics = publishMetrics(redis, config.cachePrefix, ["flink", ...flags.jobs].join("-"));
  const code = await job.exited;
  flinkJob.reset();
  flinkJob.set({ state: stopped ? "STOPPED" : code === 0 ? "FINISHED" : "FAILED" }, 1);
  await stopMetrics();
  redis.disconnect();
  return stopped ? 0 : code;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err instanceof ConfigError ? `config error: ${err.message}` : `[flink] ${describe(err)}`);
    process.exit(err instanceof ConfigError ? 2 : 1);
  },
);

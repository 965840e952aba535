import { join } from "node:path";
import { loadConfig, serviceRuntimeEnv, type Config } from "../config.ts";
import { ConfigError } from "../env-reader.ts";
import { connectAdmin, createKafkaClient } from "../kafka/client.ts";
import { type EntityTopic, topicNames } from "../kafka/topics.ts";
import { consumerLag } from "../kafka/lag.ts";
import { applyCdc, cdcHandle } from "../connect/cdc.ts";
import { openDatabase } from "../db/open.ts";
import { connect } from "../db/client.ts";
import { requireLogicalWal } from "../db/replication.ts";
import { answers, ensureInfra } from "./infra.ts";
import { Supervisor, type ServiceSpec } from "./supervisor.ts";
import { describe } from "../errors.ts";

// `bun run start:all [--speed N] [--rate R] [--scenario ID] [--format F] [--chaos light|heavy|FILE] [--clicks]`: brings up whatever local infra is
// missing, migrates and seeds, then runs every service as its own process until Ctrl-C.

const ROOT = join(import.meta.dir, "..", "..");

function services(flags: string[], config: Config): ServiceSpec[] {
  const { rate } = config.live;
  const chaos = config.live.chaos ? ["--chaos", config.live.chaos.name] : [];
  // --speed multiplies every cadence (cache reloads and grade runs too): every service gets it as SPEED
  const svc = (name: string, file: string, opts: Partial<ServiceSpec> = {}, args: string[] = []): ServiceSpec => ({
    name,
    cmd: [process.execPath, "run", join(ROOT, "src/services", file), ...args],
    ...opts,
    // --format and the order schema's version too (--clicks starts at the version with the session):
    // producers write in them, and every service is told the same
    env: {
      SPEED: String(config.speed),
      FORMAT: config.format,
      ORDER_SCHEMA_VERSION: String(config.orderSchemaVersion),
      ...serviceRuntimeEnv(config),
      ...opts.env,
    },
  });
  const consumers = consumedTopics(config).flatMap((topic) =>
    instances(config.consumersPerGroup).map((i) =>
      svc(`${topic.replace(/s$/, "")}-consumer-${i}`, "consumer.ts", { env: { INSTANCE: String(i) }, stopStage: CONSUMER_STAGE }, [topic]),
    ),
  );
  return [
    svc("producer", "producer.ts", { stopStage: 0 }, flags),
    // --chaos reaches the users topic and the lifecycle steps too
    svc("user-seeder", "user-seeder.ts", { stopStage: 0 }, chaos),
    svc("lifecycle", "lifecycle.ts", { stopStage: 0 }, chaos),
    // under --rate the producer draws from the whole customer base and needs it cached
    svc("cache-worker", "cache-worker.ts", { stopStage: 1 }, rate ? ["--rate", String(rate)] : []),
    svc("redis-monitor", "redis-monitor.ts", { stopStage: 1, env: { MONITOR_INTERVAL_S: String(config.monitorIntervalS ?? 10) } }),
    svc("grade-updater", "grade-updater.ts", { stopStage: 1 }),
    svc("metrics", "metrics.ts", { stopStage: 1 }),
    ...consumers,
    // the answer key in PostgreSQL as it is written, beside the consumers
    ...(config.live.chaos ? [svc("chaos-lander", "chaos-lander.ts", { stopStage: CONSUMER_STAGE })] : []),
    // CDC=1: the connector applied before the services start is watched while they run
    ...(config.cdc ? [svc("cdc-watch", "cdc-watch.ts", { stopStage: 1 })] : []),
  ];
}

/** The topics whose consumer groups start:all runs: --clicks adds the clicks topic's. */
function consumedTopics(config: Config): EntityTopic[] {
  return config.live.clicks ? ["users", "products", "orders", "clicks"] : ["users", "products", "orders"];
}

/** 1..n: the INSTANCE of each consumer of a group (CONSUMERS_PER_GROUP, at most one per partition). */
function instances(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i + 1);
}

const CONSUMER_STAGE = 2;
/** Signals this close to the first are one Ctrl-C delivered twice (see main). */
const SAME_SIGNAL_MS = 1000;
const DRAIN_TIMEOUT_MS = 20_000;

/** Waits (bounded) until the consumer groups have committed everything the producers flushed. */
async function drain(config: Config): Promise<void> {
  const names = topicNames(config.topicPrefix);
  let admin: Awaited<ReturnType<typeof connectAdmin>> | undefined;
  try {
    admin = await connectAdmin(await createKafkaClient(config, "start-all"));
    const deadline = Date.now() + DRAIN_TIMEOUT_MS;
    for (;;) {
      // only the groups this run started: clicks left from a run with --clicks wait for the next one
      const lag = (await consumerLag(admin, names, consumedTopics(config))).reduce((s, l) => s + l.lag, 0);
      if (lag === 0) return;
      if (Date.now() > deadline) {
        console.log(`[start:all] ${lag} message(s) still in Kafka: they stay there and are stored at the next start`);
        return;
      }
      await Bun.sleep(250);
    }
  } catch (err) {
    console.log(`[start:all] could not check consumer lag (${describe(err)}); stopping consumers anyway`);
  } finally {
    await admin?.close();
  }
}

async function runOnce(file: string): Promise<void> {
  const proc = Bun.spawn([process.execPath, "run", join(ROOT, "src/services", file)], { stdout: "inherit", stderr: "inherit" });
  const code = await proc.exited;
  if (code !== 0) throw new Error(`${file} exited with code ${code}`);
}

/**
 * CDC=1 on a PostgreSQL that answers without logical WAL ends here, in one line, before Kafka Connect
 * is started (one that does not answer yet is checked once infra.sh has started it).
 */
async function refuseWithoutLogicalWal(config: Config): Promise<void> {
  const url = new URL(config.databaseUrl);
  if (!(await answers(url.hostname, Number(url.port || 5432)))) return;
  url.pathname = "/postgres"; // the server's setting, asked before shopstream's database exists
  const sql = connect(url.toString(), { max: 1 });
  try {
    await requireLogicalWal(sql, url.host);
  } finally {
    await sql.end();
  }
}

/** Applies the CDC connector (docs/connect.md); a PostgreSQL without logical WAL fails here, in one line. */
async function startCdc(config: Config): Promise<void> {
  const sql = await openDatabase(config.databaseUrl, { max: 1 });
  try {
    const cdc = cdcHandle(sql, config);
    await applyCdc(cdc, config);
    console.log(`[start:all] CDC: connector ${cdc.names.connector} running, changes in ${cdc.names.topic("orders")} and beside it`);
  } finally {
    await sql.end();
  }
}

async function main(): Promise<void> {
  const argv = Bun.argv.slice(2);
  const config = loadConfig(process.env, argv); // flags validated before anything starts
  if (config.cdc) await refuseWithoutLogicalWal(config);
  await ensureInfra(config, (line) => console.log(`[start:all] ${line}`));
  await runOnce("initial-seeder.ts");
  if (config.cdc) await startCdc(config);
  const specs = services(argv, config);
  const supervisor = new Supervisor(specs);
  supervisor.startAll();
  console.log(
    `[start:all] ${specs.length} services running; metrics on http://${config.metricsHost}:${config.metricsPort}/ — Ctrl-C stops everything cleanly`,
  );
  // Ctrl-C (SIGINT) or SIGTERM (containers) starts the staged stop; a second one forces it. One
  // Ctrl-C under `bun run start:all` arrives twice: the terminal signals its whole foreground
  // process group, and `bun run` forwards the SIGINT it got to this process as well. A repeat
  // within SAME_SIGNAL_MS is that echo, not a person asking again.
  let firstAt: number | null = null;
  await new Promise<void>((resolve) => {
    const onSignal = (sig: string) => {
      if (firstAt === null) {
        firstAt = Date.now();
        return resolve();
      }
      if (Date.now() - firstAt < SAME_SIGNAL_MS) return;
      console.log(
        `[start:all] second ${sig}: every service stops now and says what it leaves undelivered (killed after 5 s; consumers replay uncommitted batches at the next start)`,
      );
      void supervisor.hurry().then(() => process.exit(130));
    };
    process.on("SIGINT", () => onSignal("SIGINT"));
    process.on("SIGTERM", () => onSignal("SIGTERM"));
  });
  console.log("[start:all] stopping: producers flush, consumers drain and commit (Ctrl-C again to force)");
  await supervisor.stop({ beforeStage: (stage) => (stage === CONSUMER_STAGE ? drain(config) : Promise.resolve()) });
  console.log("[start:all] all services stopped");
}

main().catch((err) => {
  console.error(err instanceof ConfigError ? `config error: ${err.message}` : `[start:all] ${describe(err)}`);
  process.exit(err instanceof ConfigError ? 2 : 1);
});

import type Redis from "ioredis";
import { type Db, withDb } from "../db/bounded.ts";
import { ping } from "../db/client.ts";
import { describe } from "../errors.ts";
import type { KafkaAdmin } from "../kafka/port.ts";
import type { Health } from "./live-state.ts";
import { readMetricSnapshots } from "./publish.ts";

// /healthz: can the metrics service reach each of the pipeline's servers right now? Each check
// gets two seconds; a slow answer counts as down, with the reason. PostgreSQL's check runs on the
// service's BoundedPool: a check left behind on a server that hangs is ended at the pool's deadline.

const TIMEOUT_MS = 2000;
/** What a check resolves to when it has nothing to check now: it is left out of the answer. */
const NOT_RUNNING = Symbol("not running");

/**
 * `cdc`, under CDC=1: fails unless the CDC connector and its tasks run. `flink`: while Flink runs
 * (`bun run flink`) ship their state (and 30 s after they end), fails when one failed; absent otherwise.
 */
export async function checkHealth(deps: {
  db: Db;
  redis: Redis;
  admin: KafkaAdmin;
  cdc?: () => Promise<void>;
  flinkStates?: () => Promise<string[]>;
}): Promise<{
  up: Health;
  errors: Partial<Record<keyof Health, string>>;
}> {
  const flinkStates = deps.flinkStates;
  const checks: Partial<Record<keyof Health, () => Promise<unknown>>> = {
    postgres: () => withDb(deps.db, "the health check", ping),
    redis: () => deps.redis.ping(),
    kafka: () => deps.admin.listTopics(),
    ...(deps.cdc ? { cdc: deps.cdc } : {}),
    ...(flinkStates ? { flink: () => flinkCheck(flinkStates) } : {}),
  };
  const names = Object.keys(checks) as (keyof Health)[];
  const results = await Promise.allSettled(
    names.map((name) => withTimeout((checks[name] as () => Promise<unknown>)(), `${name} did not answer within 2 s`)),
  );
  const up = {} as Health;
  const errors: Partial<Record<keyof Health, string>> = {};
  results.forEach((r, i) => {
    const name = names[i] as keyof Health;
    if (r.status === "fulfilled" && r.value === NOT_RUNNING) return;
    up[name] = r.status === "fulfilled";
    if (r.status === "rejected")
      errors[name] = name === "cdc" || name === "flink" ? describe(r.reason) : `unreachable: ${describe(r.reason)}`;
  });
  return { up, errors };
}

async function flinkCheck(states: () => Promise<string[]>): Promise<typeof NOT_RUNNING | undefined> {
  // unreadable or slow (Redis down): the redis check says so; whether a job runs is not known
  const unknown = Bun.sleep(TIMEOUT_MS - 500).then((): string[] => []);
  const now = await Promise.race([states().catch((): string[] => []), unknown]);
  if (now.length === 0) return NOT_RUNNING;
  if (now.includes("FAILED")) throw new Error("a Flink job failed: `bun run flink` exited with an error (its output says why)");
  return undefined;
}

type Snapshot = { name: string; values: { value: number; labels: { state?: string } }[] }[];

/**
 * The states the Flink runs (`bun run flink`, a snapshot each) last shipped: RUNNING, FINISHED,
 * STOPPED or FAILED; empty when none has within the snapshots' TTL.
 */
export async function flinkJobStates(redis: Redis, prefix: string): Promise<string[]> {
  const snapshots = (await readMetricSnapshots(redis, prefix, "flink*")) as Snapshot[];
  return snapshots.flatMap((metrics) =>
    (metrics.find((m) => m.name === "shopstream_flink_job_state")?.values ?? [])
      .filter((v) => v.value > 0)
      .map((v) => v.labels.state ?? ""),
  );
}

function withTimeout<T>(work: Promise<T>, message: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(message)), TIMEOUT_MS)));
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

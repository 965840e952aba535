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
 * `cdc`, under CDC=1: fails unless the CDC connector and its tasks run. `flink`: while a Flink job
 * (`bun run flink`) ships its state, fails when the job failed; absent when none runs.
 */
export async function checkHealth(deps: {
  db: Db;
  redis: Redis;
  admin: KafkaAdmin;
  cdc?: () => Promise<void>;
  flinkState?: () => Promise<string | null>;
}): Promise<{
  up: Health;
  errors: Partial<Record<keyof Health, string>>;
}> {
  const flinkState = deps.flinkState;
  const checks: Partial<Record<keyof Health, () => Promise<unknown>>> = {
    postgres: () => withDb(deps.db, "the health check", ping),
    redis: () => deps.redis.ping(),
    kafka: () => deps.admin.listTopics(),
    ...(deps.cdc ? { cdc: deps.cdc } : {}),
    ...(flinkState ? { flink: () => flinkCheck(flinkState) } : {}),
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

async function flinkCheck(state: () => Promise<string | null>): Promise<typeof NOT_RUNNING | undefined> {
  const now = await state();
  if (now === null) return NOT_RUNNING;
  if (now === "FAILED") throw new Error("the Flink job failed: `bun run flink` exited with an error (its output says why)");
  return undefined;
}

/** The state a Flink job last shipped (RUNNING, FINISHED, STOPPED, FAILED), or null when none has within the snapshots' TTL. */
export async function flinkJobState(redis: Redis, prefix: string): Promise<string | null> {
  const [snapshot] = (await readMetricSnapshots(redis, prefix, "flink")) as {
    name: string;
    values: { value: number; labels: { state?: string } }[];
  }[][];
  const metric = snapshot?.find((m) => m.name === "shopstream_flink_job_state");
  return metric?.values.find((v) => v.value > 0)?.labels.state ?? null;
}

function withTimeout<T>(work: Promise<T>, message: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(message)), TIMEOUT_MS)));
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

import type Redis from "ioredis";
import { type Db, withDb } from "../db/bounded.ts";
import { ping } from "../db/client.ts";
import { describe } from "../errors.ts";
import type { KafkaAdmin } from "../kafka/port.ts";
import type { Health } from "./live-state.ts";

// /healthz: can the metrics service reach each of the pipeline's servers right now? Each check
// gets two seconds; a slow answer counts as down, with the reason. PostgreSQL's check runs on the
// service's BoundedPool: a check left behind on a server that hangs is ended at the pool's deadline.

const TIMEOUT_MS = 2000;

/** `cdc`, under CDC=1: fails unless the CDC connector and its tasks run. */
export async function checkHealth(deps: { db: Db; redis: Redis; admin: KafkaAdmin; cdc?: () => Promise<void> }): Promise<{
  up: Health;
  errors: Partial<Record<keyof Health, string>>;
}> {
  const checks: Partial<Record<keyof Health, () => Promise<unknown>>> = {
    postgres: () => withDb(deps.db, "the health check", ping),
    redis: () => deps.redis.ping(),
    kafka: () => deps.admin.listTopics(),
    ...(deps.cdc ? { cdc: deps.cdc } : {}),
  };
  const names = Object.keys(checks) as (keyof Health)[];
  const results = await Promise.allSettled(
    names.map((name) => withTimeout((checks[name] as () => Promise<unknown>)(), `${name} did not answer within 2 s`)),
  );
  const up = {} as Health;
  const errors: Partial<Record<keyof Health, string>> = {};
  results.forEach((r, i) => {
    const name = names[i] as keyof Health;
    up[name] = r.status === "fulfilled";
    if (r.status === "rejected") errors[name] = name === "cdc" ? describe(r.reason) : `unreachable: ${describe(r.reason)}`;
  });
  return { up, errors };
}

function withTimeout<T>(work: Promise<T>, message: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(message)), TIMEOUT_MS)));
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

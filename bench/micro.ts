import type Redis from "ioredis";
import { bench, do_not_optimize, group, run, summary } from "mitata";
import { cacheKeys } from "../src/cache/keys.ts";
import { readSnapshot } from "../src/cache/snapshot.ts";
import type { CachedUser } from "../src/cache/reload.ts";
import { topBuyers } from "../src/domain/propensity.ts";
import { Rng } from "../src/domain/random.ts";
import { loadConfig } from "../src/config.ts";
import { decode, encode } from "../src/kafka/envelope.ts";
import { planLifecycle } from "../src/lifecycle/plan.ts";
import { cachedGenerator } from "./lib/orders.ts";

// mitata micro-benchmarks of the producer's hot path, on the run's own cache (1,000 users and
// 1,000 products loaded by the cache-worker's split load from the seeded bench database).

export interface MicroResult {
  /** p50 in ms per benchmark name */
  p50Ms: Record<string, number>;
  avgMs: Record<string, number>;
  /** of the process that ran them (bench/procs/micro.ts) */
  peakRssMb?: number;
}

export const MICRO = {
  sequential: "1,000 sequential HGETALL (a hash per user)",
  pipelined: "1,000 pipelined HGETALL (a hash per user)",
  oneHash: "one HGETALL of cache:users (shipped)",
  oneHashParsed: "one HGETALL of cache:users + JSON.parse",
  snapshot: "readSnapshot: users + products, one round trip",
  topBuyers: "propensity score 1,000 users + top 200",
  shippedSelect: "shipped read + top 200",
  sequentialSelect: "1,000 sequential HGETALL + top 200",
  draw: "OrderGenerator.next (buyer + product draw)",
  encode: "encode order (validate + JSON)",
  decode: "decode order (JSON + validate)",
  stringify: "JSON.stringify order (no validation)",
  plan: "planLifecycle: an order's whole course (consumer, per order)",
} as const;

export async function runMicro(redis: Redis, cachePrefix: string, opts: { print: boolean }): Promise<MicroResult> {
  const keys = cacheKeys(cachePrefix);
  const snapshot = await readSnapshot(redis, keys);
  const users = snapshot.users;
  if (users.length !== 1000) throw new Error(`expected 1,000 cached users, found ${users.length}`);
  // the alternative layout: one Redis hash per user (field per attribute)
  const userKey = (id: string) => `${cachePrefix}bench:user:${id}`;
  const write = redis.pipeline();
  for (const u of users) write.hset(userKey(u.id), flatten(u));
  await write.exec();
  const ids = users.map((u) => u.id);

  const rng = new Rng("micro");
  const at = new Date();
  const generator = cachedGenerator(snapshot, "micro-orders", loadConfig().producerTopN, at);
  const order = generator.next(at);
  const encoded = encode("orders", order);

  const sequential = async () => {
    const out: Record<string, string>[] = [];
    for (const id of ids) out.push(await redis.hgetall(userKey(id)));
    return out;
  };
  const oneHashParsed = async () => Object.values(await redis.hgetall(keys.users)).map((v) => JSON.parse(v) as CachedUser);

  // one pass of each read first: the first bench of a group should not pay for warming ioredis up
  for (let i = 0; i < 3; i++) await Promise.all([sequential(), oneHashParsed(), readSnapshot(redis, keys)]);

  group("Redis: read the 1,000 cached users", () => {
    summary(() => {
      bench(MICRO.sequential, sequential);
      bench(MICRO.pipelined, async () => {
        const p = redis.pipeline();
        for (const id of ids) p.hgetall(userKey(id));
        return p.exec();
      });
      bench(MICRO.oneHash, () => redis.hgetall(keys.users));
      bench(MICRO.oneHashParsed, oneHashParsed);
      bench(MICRO.snapshot, () => readSnapshot(redis, keys));
    });
  });
  group("buyer selection", () => {
    bench(MICRO.topBuyers, () => do_not_optimize(topBuyers(users, at, rng, 200)));
    bench(MICRO.shippedSelect, async () => topBuyers(await oneHashParsed(), at, rng, 200));
    bench(MICRO.sequentialSelect, async () => topBuyers((await sequential()).map(unflatten), at, rng, 200));
    bench(MICRO.draw, () => do_not_optimize(generator.next(at)));
  });
  group("event envelope", () => {
    bench(MICRO.encode, () => do_not_optimize(encode("orders", order)));
    bench(MICRO.decode, () => do_not_optimize(decode("orders", encoded)));
    bench(MICRO.stringify, () => do_not_optimize(JSON.stringify(order)));
  });
  group("order lifecycle", () => {
    bench(MICRO.plan, () => do_not_optimize(planLifecycle(order, "micro")));
  });

  const { benchmarks } = await run({
    format: opts.print ? "mitata" : "quiet",
    colors: Boolean(process.stdout.isTTY) || Boolean(process.env.FORCE_COLOR),
  });
  const p50Ms: Record<string, number> = {};
  const avgMs: Record<string, number> = {};
  for (const trial of benchmarks) {
    const stats = trial.runs[0]?.stats;
    if (!stats) throw new Error(`micro-benchmark "${trial.alias}" failed: ${String(trial.runs[0]?.error)}`);
    p50Ms[trial.alias] = stats.p50 / 1e6;
    avgMs[trial.alias] = stats.avg / 1e6;
  }
  const cleanup = redis.pipeline();
  for (const id of ids) cleanup.del(userKey(id));
  await cleanup.exec();
  return { p50Ms, avgMs };
}

function flatten(u: CachedUser): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(u)) out[k] = v === null ? "" : String(v);
  return out;
}

function unflatten(h: Record<string, string>): CachedUser {
  return {
    id: h.id ?? "",
    name: h.name ?? "",
    gender: h.gender as CachedUser["gender"],
    age: Number(h.age),
    region: h.region ?? "",
    grade: h.grade as CachedUser["grade"],
    status: h.status as CachedUser["status"],
    marketing_opt_in: h.marketing_opt_in === "true",
    created_at: h.created_at ?? "",
    appetite: Number(h.appetite),
    last_ordered_at: h.last_ordered_at || null,
  };
}

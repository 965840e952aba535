import { connectRedis, deleteByPrefix } from "../../src/cache/client.ts";
import { cacheKeys } from "../../src/cache/keys.ts";
import { DEFAULT_SPLIT, reloadCache, widenedSplit } from "../../src/cache/reload.ts";
import { seedCatalogue } from "../../src/db/seed.ts";
import { createTestDatabase, type TestDatabase, uniqueSuffix } from "../../support/db.ts";
import { config, createTestTopics, type TestTopics } from "./kafka.ts";
import { type RunningService, startService } from "./services.ts";

// The stage a pipeline test plays on: a database of its own with a seeded catalogue, topics and a
// Redis key prefix of their own with the cache loaded under it, and the environment that points a
// service at all three. Services started through it are stopped, and everything it made removed,
// at close().

export interface StageOptions {
  /** Names the database, topics and cache prefix. */
  label: string;
  /** The services' SEED, and the catalogue's (the label by default). */
  seed?: string;
  users?: number;
  products?: number;
  /** Every seeded customer cached (the cache-worker's split under --rate), not the 1,000 of the default split. */
  cacheAll?: boolean;
  /** A private cluster's brokers; the shared cluster by default. */
  brokers?: string[];
  /** Partitions of the stage's topics (KAFKA_PARTITIONS for its services too). */
  partitions?: number;
  /** More environment for every service. */
  env?: Record<string, string>;
  /** An empty database and cache, for what seeds itself (start:all). */
  empty?: boolean;
}

export interface Stage {
  db: TestDatabase;
  topics: TestTopics;
  cachePrefix: string;
  /** What points a service at the stage. */
  env: Record<string, string>;
  /** Every service started on the stage so far. */
  services: RunningService[];
  /** A service of src/services/ with the stage's environment (and `extra`); stopped at close(). */
  start(name: string, file: string, args?: string[], extra?: Record<string, string>): RunningService;
  /** Orders now in PostgreSQL. */
  stored(): Promise<number>;
  close(): Promise<void>;
}

export async function openStage(opts: StageOptions): Promise<Stage> {
  const brokers = opts.brokers ?? config.kafkaBrokers;
  const cachePrefix = `test:${opts.label}:${uniqueSuffix()}:`;
  const seed = opts.seed ?? opts.label;
  const users = opts.users ?? 1000;
  const running: RunningService[] = [];
  // what is made is undone in reverse, by close() or by a set-up that fails halfway
  const undo: (() => Promise<unknown>)[] = [];
  const close = async () => {
    const failures: unknown[] = [];
    for (const step of undo.splice(0).reverse()) await step().catch((err) => failures.push(err));
    if (failures.length) throw new Error(`the stage of ${opts.label} was not wholly removed: ${failures.map(String).join("; ")}`);
  };
  try {
    const redis = connectRedis(config.redisUrl);
    undo.push(async () => {
      await deleteByPrefix(redis, cachePrefix);
      redis.disconnect();
    });
    const [db, topics] = await settledAll(
      [createTestDatabase(opts.label), createTestTopics(opts.label, brokers, opts.partitions)] as const,
      undo,
      // topics left on a cluster a fault test took down are its own to lose: said, not failed on
      [(d) => d.drop(), (t) => t.cleanup().catch((err) => console.warn(`[stage ${opts.label}] topics not removed: ${err}`))],
    );
    if (!opts.empty) {
      await seedCatalogue(db.sql, { seed, users, products: opts.products ?? 1000, now: new Date() });
      await reloadCache(db.sql, redis, cacheKeys(cachePrefix), opts.cacheAll ? widenedSplit(users) : DEFAULT_SPLIT);
    }
    const env: Record<string, string> = {
      DATABASE_URL: db.url,
      TOPIC_PREFIX: topics.prefix,
      CACHE_PREFIX: cachePrefix,
      KAFKA_BROKERS: brokers.join(","),
      SEED: seed,
      METRICS_PORT: "0",
      ...(opts.partitions ? { KAFKA_PARTITIONS: String(opts.partitions) } : {}),
      ...opts.env,
    };
    // the services stop first: they use all of the above
    undo.push(() => Promise.all(running.map((s) => s.stop())));
    return {
      db,
      topics,
      cachePrefix,
      env,
      services: running,
      start(name, file, args = [], extra = {}) {
        const service = startService(name, file, args, { ...env, ...extra });
        running.push(service);
        return service;
      },
      stored: async () => ((await db.sql<{ n: number }[]>`select count(*)::int as n from orders`)[0]?.n ?? 0) as number,
      close,
    };
  } catch (err) {
    await close().catch(() => undefined); // the set-up's own error is the one to see
    throw err;
  }
}

/** Awaits both; each that was made gets its undo step, even when the other failed (then the failure is thrown). */
async function settledAll<A, B>(
  made: readonly [Promise<A>, Promise<B>],
  undo: (() => Promise<unknown>)[],
  remove: readonly [(a: A) => Promise<unknown>, (b: B) => Promise<unknown>],
): Promise<[A, B]> {
  const [a, b] = await Promise.allSettled(made);
  if (a.status === "fulfilled") undo.push(() => remove[0](a.value));
  if (b.status === "fulfilled") undo.push(() => remove[1](b.value));
  if (a.status === "rejected") throw a.reason;
  if (b.status === "rejected") throw b.reason;
  return [a.value, b.value];
}

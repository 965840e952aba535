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
  const [db, topics] = await Promise.all([createTestDatabase(opts.label), createTestTopics(opts.label, brokers, opts.partitions)]);
  const cachePrefix = `test:${opts.label}:${uniqueSuffix()}:`;
  const users = opts.users ?? 1000;
  const seed = opts.seed ?? opts.label;
  const redis = connectRedis(config.redisUrl);
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
  const running: RunningService[] = [];
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
    async close() {
      await Promise.all(running.map((s) => s.stop()));
      await deleteByPrefix(redis, cachePrefix);
      redis.disconnect();
      await topics.cleanup().catch(() => undefined);
      await db.drop();
    },
  };
}

import { connectRedis, deleteByPrefix } from "../../src/cache/client.ts";
import { openDatabase } from "../../src/db/open.ts";
import { insertProducts, insertUsers } from "../../src/db/writers.ts";
import type { BatchingProducer } from "../../src/kafka/batching-producer.ts";
import { uniqueSuffix } from "../../support/db.ts";
import { product, user } from "./fixtures.ts";
import { config, createTestTopics, type TestTopics } from "./kafka.ts";
import { PrivatePostgres } from "./postgres-server.ts";
import { type RunningService, startService } from "./services.ts";

// The stage of a suite that stops PostgreSQL: a private server of its own holding the users and
// products its orders refer to, topics and a Redis prefix of its own (the services publish their
// metrics there), a producer for the orders, and the environment that points services at all of
// it. close() thaws a server left frozen, stops the services, and removes everything.

export interface PrivatePostgresStage {
  pg: PrivatePostgres;
  topics: TestTopics;
  producer: BatchingProducer;
  env: Record<string, string>;
  /** A service of src/services/ on the stage (with `extra`); stopped at close(). */
  start(name: string, file: string, args?: string[], extra?: Record<string, string>): RunningService;
  close(): Promise<void>;
}

export async function openPrivatePostgresStage(
  label: string,
  catalogue: { users: readonly string[]; products: readonly string[] },
): Promise<PrivatePostgresStage> {
  const pg = new PrivatePostgres();
  const cachePrefix = `test:${label}:${uniqueSuffix()}:`;
  const services: RunningService[] = [];
  let topics: TestTopics | null = null;
  const close = async () => {
    try {
      pg.thaw(); // a run that failed during a freeze: the services stop against a running server
    } catch {
      // never frozen, or never started
    }
    await Promise.all(services.map((s) => s.stop()));
    await topics?.cleanup();
    pg.destroy();
    const redis = connectRedis(config.redisUrl);
    await deleteByPrefix(redis, cachePrefix);
    redis.disconnect();
  };
  try {
    const [made, server] = await Promise.allSettled([createTestTopics(label), pg.init()]);
    if (made.status === "fulfilled") topics = made.value; // removed at close(), whatever failed beside it
    if (made.status === "rejected") throw made.reason;
    if (server.status === "rejected") throw server.reason;
    const sql = await openDatabase(pg.url);
    try {
      await insertUsers(
        sql,
        catalogue.users.map((id) => user(id)),
      );
      await insertProducts(
        sql,
        catalogue.products.map((id) => product(id)),
      );
    } finally {
      await sql.end();
    }
    const producer = await made.value.producer();
    const env = { DATABASE_URL: pg.url, TOPIC_PREFIX: made.value.prefix, CACHE_PREFIX: cachePrefix };
    return {
      pg,
      topics: made.value,
      producer,
      env,
      start(name, file, args = [], extra = {}) {
        const service = startService(name, file, args, { ...env, ...extra });
        services.push(service);
        return service;
      },
      close,
    };
  } catch (err) {
    await close().catch(() => undefined); // the set-up's own error is the one to see
    throw err;
  }
}

import { connectRedis } from "../../src/cache/client.ts";
import { cacheKeys } from "../../src/cache/keys.ts";
import { readSnapshot } from "../../src/cache/snapshot.ts";
import type { Config } from "../../src/config.ts";
import type { CachedProduct, CachedUser } from "../../src/cache/reload.ts";
import { Clickstream } from "../../src/domain/clickstream.ts";
import type { OrderGenerator } from "../../src/domain/order-generator.ts";
import { cachedGenerator } from "../lib/orders.ts";

/**
 * The shipped path both modes share: one read of the Redis cache, then the producer's generator
 * (and, for a run with clicks, the producer's clickstream over the same cache).
 */
export async function generatorFromCache(config: Config, job: { seed: string; cachePrefix: string }): Promise<OrderGenerator> {
  return (await fromCache(config, job)).generator;
}

export async function fromCache(
  config: Config,
  job: { seed: string; cachePrefix: string },
): Promise<{ generator: OrderGenerator; clickstream: Clickstream<CachedProduct, CachedUser> }> {
  const redis = connectRedis(config.redisUrl);
  const snapshot = await readSnapshot(redis, cacheKeys(job.cachePrefix));
  redis.disconnect();
  const clickstream = new Clickstream<CachedProduct, CachedUser>();
  clickstream.setCatalogue(snapshot.users, snapshot.products);
  return { generator: cachedGenerator(snapshot, job.seed, config.producerTopN), clickstream };
}

import { connectRedis } from "../../src/cache/client.ts";
import { cacheKeys } from "../../src/cache/keys.ts";
import { readSnapshot } from "../../src/cache/snapshot.ts";
import type { Config } from "../../src/config.ts";
import type { OrderGenerator } from "../../src/domain/order-generator.ts";
import { cachedGenerator } from "../lib/orders.ts";

/** The shipped path both modes share: one read of the Redis cache, then the producer's generator. */
export async function generatorFromCache(config: Config, job: { seed: string; cachePrefix: string }): Promise<OrderGenerator> {
  const redis = connectRedis(config.redisUrl);
  const snapshot = await readSnapshot(redis, cacheKeys(job.cachePrefix));
  redis.disconnect();
  return cachedGenerator(snapshot, job.seed, config.producerTopN);
}

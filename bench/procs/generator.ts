import { connectRedis } from "../../src/cache/client.ts";
import { cacheKeys } from "../../src/cache/keys.ts";
import { readSnapshot } from "../../src/cache/snapshot.ts";
import type { Config } from "../../src/config.ts";
import { OrderGenerator } from "../../src/domain/order-generator.ts";
import { Rng } from "../../src/domain/random.ts";

/** The shipped path both modes share: one read of the Redis cache, then the producer's generator. */
export async function generatorFromCache(config: Config, job: { seed: string; cachePrefix: string }): Promise<OrderGenerator> {
  const redis = connectRedis(config.redisUrl);
  const snapshot = await readSnapshot(redis, cacheKeys(job.cachePrefix));
  redis.disconnect();
  const generator = new OrderGenerator(new Rng(job.seed), config.producerTopN);
  generator.refresh(snapshot.users, snapshot.products, new Date());
  if (!generator.ready) throw new Error(`no cached users/products under ${job.cachePrefix}`);
  return generator;
}

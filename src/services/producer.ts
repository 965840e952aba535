import { connectRedis } from "../cache/client.ts";
import { cacheKeys } from "../cache/keys.ts";
import type { CachedProduct, CachedUser } from "../cache/reload.ts";
import { orderIntervalS, productIntervalS } from "../domain/curves.ts";
import { OrderGenerator } from "../domain/order-generator.ts";
import { Rng } from "../domain/random.ts";
import { scenarioById } from "../domain/scenarios.ts";
import { openKafka } from "../kafka/open.ts";
import { publishMetrics } from "../metrics/publish.ts";
import { reportBuffered } from "../metrics/registry.ts";
import { CacheFollower } from "../pipeline/cache-follower.ts";
import { ShopPublisher } from "../pipeline/shop-publisher.ts";
import { every, producerMetrics, rateLoop, runService, sleep } from "./runtime.ts";

// Orders from the Redis cache (never PostgreSQL) on the shop's hourly cadence, or at a fixed
// --rate with buyers rotating every simulated day (docs/design.md); new products every 6–8 s.
runService("producer", async ({ config, log, signal }) => {
  const { speed, live } = config;
  const rng = new Rng(config.seed);
  const redis = connectRedis(config.redisUrl);
  const { names, producer } = await openKafka(config, "producer", { ...producerMetrics, log });
  reportBuffered(() => producer.pending);
  const stopMetrics = publishMetrics(redis, config.cachePrefix, "producer");
  const generator = new OrderGenerator<CachedUser, CachedProduct>(
    rng.fork("orders"),
    config.producerTopN,
    live.rate ? { ordersPerSecond: live.rate } : undefined,
  );
  const cache = new CacheFollower(
    redis,
    cacheKeys(config.cachePrefix),
    config.cachePrefix,
    generator,
    log,
    live.scenario ? scenarioById(live.scenario) : undefined,
  );
  const shop = new ShopPublisher(producer, names, generator, rng.fork("products"));

  for (await cache.sync(); !generator.ready && !signal.aborted; await cache.sync()) await sleep(1000, signal);
  log.info(live.rate ? `publishing ${live.rate} orders/s` : `publishing at speed ×${speed}`);
  const atLimit = new AbortController(); // --count reached
  const loopSignal = AbortSignal.any([signal, atLimit.signal]);
  const nextOrder = () => (live.count !== undefined && shop.generated >= live.count ? atLimit.abort() : shop.order(signal));
  const cadence = rng.fork("cadence");
  await Promise.all([
    live.rate
      ? rateLoop(live.rate, nextOrder, loopSignal)
      : every(
          () => orderIntervalS(cadence, new Date(), speed, config.orderIntervalS, generator.scenario.volume) * 1000,
          nextOrder,
          loopSignal,
        ),
    every(
      () => productIntervalS(cadence, speed, config.productIntervalS) * 1000,
      () => shop.product(signal),
      loopSignal,
    ),
    every(
      () => 1000,
      () => cache.sync(),
      loopSignal,
    ),
    every(
      () => 10_000,
      () => log.info(`${shop.generated} orders generated, ${shop.acknowledged} acknowledged, ${producer.pending} messages buffered`),
      loopSignal,
    ),
  ]);
  const lost = await producer.close(); // everything accepted is flushed before exit
  await stopMetrics();
  redis.disconnect();
  log.info(
    `stopped: ${shop.generated} orders generated, ${shop.acknowledged} acknowledged; ${producer.acked} messages acknowledged in all`,
  );
  if (generator.spacingOverruns > 0)
    log.warn(`${generator.spacingOverruns} order(s) went to a customer already at the daily ceiling: cache more users (CACHE_RATE_USERS)`);
  if (lost > 0) {
    log.error(`${lost} message(s) were not acknowledged: Kafka stayed unreachable through the shutdown timeout`);
    process.exitCode = 1;
  }
});

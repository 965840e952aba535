import { connectRedis } from "../cache/client.ts";
import type { Config } from "../config.ts";
import type { CachedProduct, CachedUser } from "../cache/reload.ts";
import { orderIntervalS, productIntervalS } from "../domain/curves.ts";
import { OrderGenerator } from "../domain/order-generator.ts";
import { instanceSeed, Rng } from "../domain/random.ts";
import { scenarioById } from "../domain/scenarios.ts";
import { openKafka } from "../kafka/open.ts";
import { reportBuffered, reportScenario } from "../metrics/registry.ts";
import { CacheFollower } from "../pipeline/cache-follower.ts";
import { ShopPublisher } from "../pipeline/shop-publisher.ts";
import { every, producerMetrics, rateLoop, runService, sleep } from "./runtime.ts";

// Orders from the Redis cache (never PostgreSQL) on the shop's hourly cadence, or at a fixed
// --rate with buyers rotating every simulated day (docs/design.md); new products every 6–8 s.
// INSTANCE=N runs the N-th of several producers: a stream and ids of its own ("Several producers").
runService(producerName, async ({ config, log, signal, hurry, name }) => {
  const { speed, live, instance } = config;
  const rng = new Rng(instanceSeed(config.seed, instance));
  const redis = connectRedis(config.redisUrl);
  const { names, producer } = await openKafka(config, name, { ...producerMetrics(config.topicPrefix), log });
  reportBuffered(() => producer.pending);
  const rotation = live.rate ? { ordersPerSecond: live.rate } : undefined;
  const generator = new OrderGenerator<CachedUser, CachedProduct>(rng.fork("orders"), config.producerTopN, rotation, instance);
  const startScenario = live.scenario ? scenarioById(live.scenario) : undefined;
  const cache = new CacheFollower(redis, config.cachePrefix, generator, log, startScenario);
  const shop = new ShopPublisher(producer, names, generator, rng.fork("products"), instance);
  const cadence = rng.fork("cadence");
  reportScenario(() => (generator.ready ? generator.scenario.id : null));

  for (await cache.sync(); !generator.ready && !signal.aborted; await cache.sync()) await sleep(1000, signal);
  log.info(live.rate ? `publishing ${live.rate} orders/s` : `publishing at speed ×${speed}`);
  const atLimit = new AbortController(); // --count reached
  const loops = AbortSignal.any([signal, atLimit.signal]);
  const nextOrder = () => (live.count !== undefined && shop.generated >= live.count ? atLimit.abort() : shop.order(signal));
  const nextProduct = () => shop.product(signal);
  const orderGapMs = () => orderIntervalS(cadence, new Date(), speed, config.orderIntervalS, generator.scenario.volume) * 1000;
  const productGapMs = () => productIntervalS(cadence, speed, config.productIntervalS) * 1000;
  const syncCache = () => cache.sync();
  const report = () => log.info(`${shop.progress()}, ${producer.pending} messages buffered`);
  await Promise.all([
    // the first order goes out as soon as the cache is in: at 04:00 Seoul the curve's gap is 30 s
    live.rate ? rateLoop(live.rate, nextOrder, loops) : every(orderGapMs, nextOrder, loops, { immediately: true }),
    every(productGapMs, nextProduct, loops),
    every(SECOND, syncCache, loops),
    every(TEN_SECONDS, report, loops),
  ]);
  const lost = await producer.close(undefined, hurry); // everything accepted is flushed before exit, unless forced
  redis.disconnect();
  log.info(`stopped: ${shop.progress()}; ${producer.acked} messages acknowledged in all`);
  if (generator.spacingOverruns > 0)
    log.warn(`${generator.spacingOverruns} order(s) above the daily ceiling: cache more users (CACHE_RATE_USERS)`);
  if (lost > 0) {
    log.error(
      `${lost} message(s) not delivered: ${hurry.aborted ? "the stop was forced" : "Kafka stayed unreachable through the shutdown timeout"}`,
    );
    process.exitCode = 1;
  }
});

/** "producer" as ever for instance 1; "producer-N" for the others, so their metrics and logs stay apart. */
function producerName(config: Config): string {
  return config.instance === 1 ? "producer" : `producer-${config.instance}`;
}

const SECOND = () => 1000;
const TEN_SECONDS = () => 10_000;

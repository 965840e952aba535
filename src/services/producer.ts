import { connectRedis } from "../cache/client.ts";
import { ShopClock } from "../cache/shop-clock.ts";
import { describe } from "../errors.ts";
import { type Logger, StormLog } from "../log.ts";
import type { Config } from "../config.ts";
import type { CachedProduct, CachedUser } from "../cache/reload.ts";
import { orderIntervalS, productIntervalS } from "../domain/curves.ts";
import { Clickstream } from "../domain/clickstream.ts";
import { OrderGenerator } from "../domain/order-generator.ts";
import { instanceSeed, Rng } from "../domain/random.ts";
import { scenarioById } from "../domain/scenarios.ts";
import { openKafka } from "../kafka/open.ts";
import { reportBuffered, reportScenario, reportSchemas } from "../metrics/registry.ts";
import { openEventSerializer } from "../schemas/open.ts";
import { SchemaVersionSwitch, schemaVersionFollower } from "../schemas/version-switch.ts";
import { CacheFollower } from "../pipeline/cache-follower.ts";
import { ShopPublisher } from "../pipeline/shop-publisher.ts";
import { every, producerMetrics, rateLoop, recordSender, runService, sleep } from "./runtime.ts";

// Orders from the Redis cache (never PostgreSQL) on the shop's hourly cadence, or at a fixed
// --rate on a simulated clock, every order drawn from the whole cached base (docs/design.md); new
// products every 6–8 s.
// INSTANCE=N runs the N-th of several producers: a stream and ids of its own ("Several producers").
runService(producerName, async ({ config, log, signal, hurry, name }) => {
  const { speed, live, instance } = config;
  const rng = new Rng(instanceSeed(config.seed, instance));
  const redis = connectRedis(config.redisUrl);
  const shopClock = new ShopClock(redis, config.cachePrefix);
  // on the wall clock, an earlier --rate run's clock is no clock of this one (a Redis away is the cache follower's to report)
  if (!live.rate) await shopClock.clear().catch(() => undefined);
  const { names, producer } = await openKafka(config, name, { ...producerMetrics(config.topicPrefix), log });
  reportBuffered(() => producer.pending);
  const rotation = live.rate ? { ordersPerSecond: live.rate } : undefined;
  const generator = new OrderGenerator<CachedUser, CachedProduct>(rng.fork("orders"), config.producerTopN, rotation, instance);
  const startScenario = live.scenario ? scenarioById(live.scenario) : undefined;
  // --clicks: the sessions behind each order, their products and signed-in visitors from the same cache
  const clickstream = live.clicks ? new Clickstream<CachedProduct, CachedUser>(instance) : undefined;
  const onSnapshot =
    clickstream && ((s: { users: CachedUser[]; products: CachedProduct[] }) => clickstream.setCatalogue(s.users, s.products));
  const cache = new CacheFollower(redis, config.cachePrefix, generator, log, startScenario, !live.rate, onSnapshot);
  // with clicks, the customers who sign up in a session are published too
  const entities = live.clicks ? (["orders", "products", "clicks", "users"] as const) : (["orders", "products"] as const);
  const values = await openEventSerializer(config, names, [...entities], { log, signal });
  reportSchemas(() => values.topics());
  const followVersion = schemaVersionFollower(new SchemaVersionSwitch(redis, config.cachePrefix), values, config.orderSchemaVersion, log);
  const publishClock = shopClockPublisher(shopClock, generator, log);
  const sender = recordSender(config, producer, names, values, log, "producer");
  const productRng = rng.fork("products");
  const cadence = rng.fork("cadence");
  const orderClicks = clickstream && { stream: clickstream, rng: rng.fork("clicks") };
  const shop = new ShopPublisher(producer, sender, generator, productRng, instance, orderClicks);
  reportScenario(() => (generator.ready ? generator.scenario.id : null));

  for (await cache.sync(); !generator.ready && !signal.aborted; await cache.sync()) await sleep(1000, signal);
  const withClicks = live.clicks ? ", with the sessions and clicks behind them" : "";
  log.info(live.rate ? `publishing ${live.rate} orders/s${withClicks}` : `publishing at speed ×${speed}${withClicks}`);
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
    every(SECOND, followVersion, loops),
    live.rate ? every(SECOND, publishClock, loops) : undefined,
    every(TEN_SECONDS, report, loops),
  ]);
  // everything accepted is flushed before exit, unless forced (and what chaos held back, with the answer key's last lines)
  const lost = await sender.close(hurry);
  await publishClock(); // where the orders ended
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

/**
 * Says in Redis which clock the orders are drawn on (src/cache/shop-clock.ts): under --rate the
 * simulated day's length and the latest order's time (on the wall clock there is none: cleared at
 * the start). A Redis that does not answer is said once in a while, and the next second tries again.
 */
function shopClockPublisher(clock: ShopClock, generator: OrderGenerator<CachedUser, CachedProduct>, log: Logger) {
  const away = new StormLog((line) => log.warn(line));
  return async (): Promise<void> => {
    const now = generator.clock;
    try {
      if (now) await clock.set(now);
    } catch (err) {
      away.note(describe(err), "cannot publish the shop's clock to Redis (trying again):");
    }
  };
}

/** "producer" as ever for instance 1; "producer-N" for the others, so their metrics and logs stay apart. */
function producerName(config: Config): string {
  return config.instance === 1 ? "producer" : `producer-${config.instance}`;
}

const SECOND = () => 1000;
const TEN_SECONDS = () => 10_000;

import { connectRedis } from "../cache/client.ts";
import { cacheKeys, scenarioKey } from "../cache/keys.ts";
import { reportBuffered } from "../metrics/registry.ts";
import { publishMetrics } from "../metrics/publish.ts";
import { currentGeneration, readSnapshot } from "../cache/snapshot.ts";
import { generateProducts } from "../domain/fake.ts";
import { orderIntervalS, productIntervalS } from "../domain/curves.ts";
import { OrderGenerator } from "../domain/order-generator.ts";
import { Rng } from "../domain/random.ts";
import { scenarioById, scenarioForHour, BASELINE } from "../domain/scenarios.ts";
import { seoulHour } from "../domain/seoul-time.ts";
import { encode } from "../kafka/envelope.ts";
import { openKafka } from "../kafka/open.ts";
import { every, producerMetrics, runService, sleep } from "./runtime.ts";

// Reads buyers and products from the Redis cache (never PostgreSQL), publishes orders on the
// cadence of SPEC 7 (or at a fixed --rate) and new products every 6–8 s.

runService("producer", async ({ config, log, signal }) => {
  const flags = config.live;
  const { speed } = config;
  const rng = new Rng(config.seed);
  const orderRng = rng.fork("orders");
  const productRng = rng.fork("products");
  const cadenceRng = rng.fork("cadence");
  let pinnedScenario = flags.scenario ? scenarioById(flags.scenario) : undefined;

  const redis = connectRedis(config.redisUrl);
  const keys = cacheKeys(config.cachePrefix);
  const { names, producer } = await openKafka(config, "producer", { ...producerMetrics, log });
  reportBuffered(() => producer.pending);
  const stopMetrics = publishMetrics(redis, config.cachePrefix, "producer");

  // --rate: the shop's clock runs with the rate, buyers rotate every simulated day (docs/design.md)
  const generator = new OrderGenerator(orderRng, config.producerTopN, flags.rate ? { ordersPerSecond: flags.rate } : undefined);
  let generation: string | null = null;
  let cache: Awaited<ReturnType<typeof readSnapshot>> | null = null;
  let failed = 0;
  let sent = 0;

  const scenarioNow = (at: Date) =>
    pinnedScenario ?? scenarioForHour(seoulHour(at)) ?? BASELINE;

  // Follows the cache and the scenario switch: cheap checks each second, a full pipelined read
  // only when the cache-worker has reloaded. An unreachable or emptied Redis (a restart) never
  // replaces a good snapshot: orders go on from the last one until a reload arrives.
  let redisDown = false;
  let waitingForReload = false;
  const syncCache = async () => {
    try {
      const [gen, pinned] = await Promise.all([currentGeneration(redis, keys), redis.get(scenarioKey(config.cachePrefix))]);
      if (redisDown) log.info("Redis is back");
      redisDown = false;
      followPin(pinned);
      const scenario = scenarioNow(new Date());
      if (gen !== generation || !cache) {
        const fresh = await readSnapshot(redis, keys);
        if (fresh.users.length === 0 || fresh.products.length === 0) {
          if (!waitingForReload) log.warn(cache ? "the cache is empty (Redis restarted?): keeping the previous snapshot until the cache-worker reloads" : "cache is empty: waiting for the cache-worker");
          waitingForReload = true;
          return;
        }
        waitingForReload = false;
        cache = fresh;
        generation = fresh.generation;
      } else if (scenario === generator.scenario) return;
      generator.refresh(cache.users, cache.products, new Date(), scenario);
      log.info(`cache generation ${generation}: top ${generator.top.length} of ${cache.users.length} users, ${cache.products.length} products, scenario ${scenario.id}`);
    } catch (err) {
      if (!redisDown) log.error(cache ? "Redis unreachable: publishing from the last snapshot and retrying every second" : "Redis unreachable: retrying every second", err);
      redisDown = true;
    }
  };

  const followPin = (pinned: string | null) => {
    if (pinned && pinned !== pinnedScenario?.id) {
      try {
        pinnedScenario = scenarioById(pinned);
      } catch (err) {
        log.warn(`ignoring scenario switch: ${err instanceof Error ? err.message : err}`);
      }
    } else if (!pinned && !flags.scenario) pinnedScenario = undefined;
  };

  let generated = 0;
  const publishOrder = async () => {
    await producer.whenRoom(signal); // back-pressure: a Kafka outage slows generation, never drops an order
    if (signal.aborted) return; // the stop came while waiting for room: generate nothing more
    const order = generator.next(new Date());
    generated++;
    producer.send(names.topic("orders"), { key: order.user_id, value: encode("orders", order) }).then(
      () => sent++,
      () => failed++, // only at shutdown, when the cluster stayed away past the close timeout
    );
  };

  const publishProduct = async () => {
    await producer.whenRoom(signal);
    if (signal.aborted) return;
    const now = new Date();
    const [product] = generateProducts(productRng, 1, now, { createdAt: now });
    if (product) producer.send(names.topic("products"), { key: product.id, value: encode("products", product) }).catch(() => failed++);
  };

  await syncCache();
  while (!generator.ready && !signal.aborted) {
    await sleep(1000, signal);
    await syncCache();
  }
  log.info(flags.rate ? `publishing ${flags.rate} orders/s` : `publishing at speed ×${speed}`);

  const limitReached = () => flags.count !== undefined && generated >= flags.count;
  const stopAtLimit = new AbortController();
  const loopSignal = AbortSignal.any([signal, stopAtLimit.signal]);

  const orderLoop = flags.rate
    ? rateLoop(flags.rate, () => { if (limitReached()) stopAtLimit.abort(); else return publishOrder(); }, loopSignal)
    : every(() => (orderIntervalS(cadenceRng, new Date(), speed, config.orderIntervalS, generator.scenario.volume) * 1000),
        () => { if (limitReached()) stopAtLimit.abort(); else return publishOrder(); }, loopSignal);
  const productLoop = every(() => productIntervalS(cadenceRng, speed, config.productIntervalS) * 1000, publishProduct, loopSignal);
  const cacheLoop = every(() => 1000, syncCache, loopSignal);
  const report = setInterval(() => log.info(`${generated} orders generated, ${sent} acknowledged, ${producer.pending} messages buffered`), 10_000);

  await Promise.all([orderLoop, productLoop, cacheLoop]);
  clearInterval(report);
  const lost = await producer.close(); // everything accepted is flushed before exit
  await stopMetrics();
  redis.disconnect();
  log.info(`stopped: ${generated} orders generated, ${sent} acknowledged; ${producer.acked} messages acknowledged in all`);
  if (generator.spacingOverruns > 0) log.warn(`${generator.spacingOverruns} order(s) went to a customer already at the daily ceiling: cache more users (CACHE_RATE_USERS)`);
  if (lost > 0) {
    log.error(`${lost} message(s) were not acknowledged: Kafka stayed unreachable through the shutdown timeout`);
    process.exitCode = 1;
  }
});

/**
 * Fixed-rate driver: emits rate×dt orders per 10 ms tick. emit() waits while the producer's buffer
 * is full; a backlog of more than one second's orders is forgiven rather than burst out afterwards.
 */
async function rateLoop(rate: number, emit: () => Promise<void> | void, signal: AbortSignal): Promise<void> {
  const started = performance.now();
  let emitted = 0;
  while (!signal.aborted) {
    const due = Math.floor(((performance.now() - started) / 1000) * rate);
    if (due - emitted > rate) emitted = due - Math.ceil(rate);
    while (emitted < due && !signal.aborted) {
      await emit();
      emitted++;
    }
    await sleep(10, signal);
  }
}

import { assertRedisReachable, connectRedis } from "../cache/client.ts";
import { cacheKeys } from "../cache/keys.ts";
import { DEFAULT_SPLIT, reloadCache, widenedSplit } from "../cache/reload.ts";
import { openBoundedDatabase } from "../db/open.ts";
import { periodically, runService } from "./runtime.ts";

runService("cache-worker", async ({ config, log, signal }) => {
  // bounded: a database that hangs fails the reload within PG_QUERY_TIMEOUT_MS (docs/design.md, "Faults")
  const db = await openBoundedDatabase(config.databaseUrl, { max: 2, timeoutMs: config.pgQueryTimeoutMs });
  const redis = connectRedis(config.redisUrl);
  await assertRedisReachable(redis);
  const keys = cacheKeys(config.cachePrefix);
  const periodMs = (config.cacheRefreshS * 1000) / config.speed;
  // --rate: the producer draws every order from the whole customer base it finds cached
  const { rate } = config.live;
  const sizes = rate ? widenedSplit(config.cacheRateUsers) : DEFAULT_SPLIT;
  log.info(`reloading the cache every ${(periodMs / 1000).toFixed(1)} s${rate ? ` with up to ${sizes.users} users (--rate ${rate})` : ""}`);
  // a reload left at the stop swaps the cache in one MULTI, wholly or not at all; a failed one keeps
  // the previous cache, which the producer goes on with
  await periodically(
    periodMs,
    async () => {
      const r = await reloadCache(db, redis, keys, sizes);
      log.info(`reload #${r.reloads}: users=${r.users} products=${r.products} in ${r.ms.toFixed(0)} ms`);
    },
    { log, signal },
    "reload failed, keeping the previous cache:",
  );
  redis.disconnect();
  await db.end(); // bounded: a server that does not answer is not waited for
});

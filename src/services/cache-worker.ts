import { assertRedisReachable, connectRedis } from "../cache/client.ts";
import { cacheKeys } from "../cache/keys.ts";
import { DEFAULT_SPLIT, reloadCache, widenedSplit } from "../cache/reload.ts";
import { openDatabase } from "../db/open.ts";
import { runService, sleep } from "./runtime.ts";

runService("cache-worker", async ({ config, log, signal }) => {
  const sql = await openDatabase(config.databaseUrl, { max: 2 });
  const redis = connectRedis(config.redisUrl);
  await assertRedisReachable(redis);
  const keys = cacheKeys(config.cachePrefix);
  const periodMs = (config.cacheRefreshS * 1000) / config.speed;
  // --rate: the producer replays the split itself every simulated day, over the whole customer base
  const { rate } = config.live;
  const sizes = rate ? widenedSplit(config.cacheRateUsers) : DEFAULT_SPLIT;
  log.info(`reloading the cache every ${(periodMs / 1000).toFixed(1)} s${rate ? ` with up to ${sizes.users} users (--rate ${rate})` : ""}`);
  while (!signal.aborted) {
    const started = Date.now();
    try {
      const r = await reloadCache(sql, redis, keys, sizes);
      log.info(`reload #${r.reloads}: users=${r.users} products=${r.products} in ${r.ms.toFixed(0)} ms`);
    } catch (err) {
      // keep the previous cache: the producer goes on with it, and the next period tries again
      log.error("reload failed, keeping the previous cache", err);
    }
    await sleep(Math.max(0, periodMs - (Date.now() - started)), signal);
  }
  redis.disconnect();
  await sql.end();
});

import { assertRedisReachable, connectRedis } from "../cache/client.ts";
import { cacheKeys } from "../cache/keys.ts";
import { DEFAULT_SPLIT, reloadCache, widenedSplit } from "../cache/reload.ts";
import { openBoundedDatabase } from "../db/open.ts";
import { describe } from "../errors.ts";
import { StormLog } from "../log.ts";
import { every, runService } from "./runtime.ts";

runService("cache-worker", async ({ config, log, signal }) => {
  // bounded: a database that hangs fails the reload within PG_QUERY_TIMEOUT_MS (docs/design.md, "Faults")
  const db = await openBoundedDatabase(config.databaseUrl, { max: 2, timeoutMs: config.pgQueryTimeoutMs });
  const redis = connectRedis(config.redisUrl);
  await assertRedisReachable(redis);
  const keys = cacheKeys(config.cachePrefix);
  const periodMs = (config.cacheRefreshS * 1000) / config.speed;
  // --rate: the producer replays the split itself every simulated day, over the whole customer base
  const { rate } = config.live;
  const sizes = rate ? widenedSplit(config.cacheRateUsers) : DEFAULT_SPLIT;
  const storm = new StormLog((line) => log.error(line));
  log.info(`reloading the cache every ${(periodMs / 1000).toFixed(1)} s${rate ? ` with up to ${sizes.users} users (--rate ${rate})` : ""}`);
  let started = 0;
  await every(
    () => Math.max(0, periodMs - (Date.now() - started)), // one reload per period, however long it took
    async () => {
      started = Date.now();
      try {
        const r = await reloadCache(db, redis, keys, sizes);
        log.info(`reload #${r.reloads}: users=${r.users} products=${r.products} in ${r.ms.toFixed(0)} ms`);
      } catch (err) {
        // keep the previous cache: the producer goes on with it, and the next period tries again
        if (!signal.aborted) storm.note(describe(err), "reload failed, keeping the previous cache:");
      }
    },
    signal,
    // a reload left at the stop swaps the cache in one MULTI, wholly or not at all
    { immediately: true, leaveAtAbort: true },
  );
  storm.close();
  redis.disconnect();
  await db.end(); // bounded: a server that does not answer is not waited for
});

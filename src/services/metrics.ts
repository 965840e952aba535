import { assertRedisReachable, connectRedis } from "../cache/client.ts";
import { cacheKeys } from "../cache/keys.ts";
import { openDatabase } from "../db/open.ts";
import { connectAdmin, createKafka } from "../kafka/client.ts";
import { topicNames } from "../kafka/topics.ts";
import { metricsApp } from "../metrics/app.ts";
import { buildRegistry } from "../metrics/collect.ts";
import { scenarioKey } from "../cache/keys.ts";
import { runService } from "./runtime.ts";

runService("metrics", async ({ config, log, signal }) => {
  const sql = await openDatabase(config.databaseUrl, { max: 2 });
  const redis = connectRedis(config.redisUrl);
  await assertRedisReachable(redis);
  const admin = await connectAdmin(createKafka(config, "metrics"), config.kafkaBrokers);
  const keys = cacheKeys(config.cachePrefix);
  const names = topicNames(config.topicPrefix);
  const control = scenarioKey(config.cachePrefix);
  const app = metricsApp({
    registry: () =>
      buildRegistry({
        redis,
        sql,
        admin,
        keys,
        names,
        prefix: config.cachePrefix,
        onError: (source, err) => log.warn(`scrape: ${source} unreadable (${err instanceof Error ? err.message : err})`),
      }),
    getScenario: () => redis.get(control),
    setScenario: async (id) => {
      if (id) await redis.set(control, id);
      else await redis.del(control);
    },
  });
  const server = Bun.serve({ hostname: config.metricsHost, port: config.metricsPort, fetch: app.fetch });
  log.info(`serving http://${server.hostname}:${server.port}/metrics`);
  await new Promise<void>((resolve) => signal.addEventListener("abort", () => resolve(), { once: true }));
  server.stop();
  await admin.disconnect();
  redis.disconnect();
  await sql.end();
});

import { assertRedisReachable, connectRedis } from "../cache/client.ts";
import { cacheKeys } from "../cache/keys.ts";
import { ScenarioSwitch } from "../cache/scenario-switch.ts";
import { openBoundedDatabase } from "../db/open.ts";
import { describe } from "../errors.ts";
import { connectAdmin, createKafkaClient } from "../kafka/client.ts";
import { topicNames } from "../kafka/topics.ts";
import { StormLog } from "../log.ts";
import { LOOPBACK_HOSTS, metricsApp } from "../metrics/app.ts";
import { buildRegistry, type Sources } from "../metrics/collect.ts";
import { checkHealth, flinkJobStates } from "../metrics/health.ts";
import { LIVE_SAMPLE_MS, LiveMonitor } from "../metrics/live-monitor.ts";
import { SchemaVersionSwitch } from "../schemas/version-switch.ts";
import { every, runService } from "./runtime.ts";
import { cdcConnectorRunning } from "../connect/cdc.ts";
import type { Config } from "../config.ts";

/** /healthz's CDC check: the connector and its tasks run on the worker. */
function cdcCheck(config: Config): () => Promise<void> {
  return () => cdcConnectorRunning(config);
}

/** Scrapes within a second share one read of Kafka, PostgreSQL and Redis (below the live page's 2-s sampling). */
const SCRAPE_READ_MS = 1000;
/** The deadline of the metrics service's reads of PostgreSQL, when PG_QUERY_TIMEOUT_MS is longer. */
const SCRAPE_PG_TIMEOUT_MS = 5000;

// /metrics, /healthz, the live page and the scenario switch; samples its own figures for the page.
runService("metrics", async ({ config, log, signal }) => {
  // bounded, and more tightly than the other services: a scrape must answer while PostgreSQL hangs,
  // reporting it down, well within Prometheus's default scrape_timeout (10 s)
  const db = await openBoundedDatabase(config.databaseUrl, {
    max: 2,
    timeoutMs: Math.min(config.pgQueryTimeoutMs, SCRAPE_PG_TIMEOUT_MS),
  });
  const redis = connectRedis(config.redisUrl, { log });
  await assertRedisReachable(redis);
  const admin = await connectAdmin(await createKafkaClient(config, "metrics", log));
  const storm = new StormLog((line) => log.warn(line));
  const sources: Sources = {
    redis,
    db,
    admin,
    keys: cacheKeys(config.cachePrefix),
    names: topicNames(config.topicPrefix),
    prefix: config.cachePrefix,
    onError: (source, err) => {
      if (!signal.aborted) storm.note(describe(err), `scrape: ${source}:`); // a sample left at the stop fails unheard
    },
    minReadIntervalMs: SCRAPE_READ_MS,
  };
  const registry = () => buildRegistry(sources);
  const scenario = new ScenarioSwitch(redis, config.cachePrefix);
  const health = () =>
    checkHealth({
      db,
      redis,
      admin,
      cdc: config.cdc ? cdcCheck(config) : undefined,
      flinkStates: () => flinkJobStates(redis, config.cachePrefix),
    });
  const schemaVersion = new SchemaVersionSwitch(redis, config.cachePrefix);
  const monitor = new LiveMonitor({ registry, db, scenario, schemaVersion, health, cachePeriodS: config.cacheRefreshS / config.speed });
  const hosts = [...LOOPBACK_HOSTS, config.metricsHost, ...config.metricsAllowedHosts];
  const app = metricsApp({ registry, scenario, schemaVersion, health, live: () => monitor.state(), hosts });
  const server = Bun.serve({ hostname: config.metricsHost, port: config.metricsPort, fetch: app.fetch });
  log.info(`serving http://${server.hostname}:${server.port}/ (live page) and /metrics`);
  const sample = () =>
    monitor.sample().catch((err) => {
      if (!signal.aborted) storm.note(describe(err), "live page sample failed:");
    });
  // a sample only reads: one left at the stop changes nothing
  await every(() => LIVE_SAMPLE_MS, sample, signal, { immediately: true, leaveAtAbort: true });
  server.stop();
  storm.close();
  await admin.close();
  redis.disconnect();
  await db.end(); // bounded: a server that does not answer is not waited for
});

import { openBoundedDatabase } from "../db/open.ts";
import { openKafka } from "../kafka/open.ts";
import { connectRedis } from "../cache/client.ts";
import { LifecycleEmitter } from "../lifecycle/emitter.ts";
import { reportSchemas } from "../metrics/registry.ts";
import { openEventSerializer } from "../schemas/open.ts";
import { SchemaVersionSwitch, schemaVersionFollower } from "../schemas/version-switch.ts";
import { every, periodically, producerMetrics, recordSender, runService } from "./runtime.ts";

const LIFECYCLE_POLL_MS = 1000;

// Publishes each order's lifecycle steps (shipped, delivered, cancelled, refunded) as they fall due,
// from the schedule the orders consumers keep in PostgreSQL (docs/design.md, "Order lifecycle").
runService("lifecycle", async ({ config, log, signal, hurry }) => {
  // bounded: a database that hangs fails the poll within PG_QUERY_TIMEOUT_MS (docs/design.md, "Faults")
  const db = await openBoundedDatabase(config.databaseUrl, { max: 1, timeoutMs: config.pgQueryTimeoutMs });
  const { names, producer } = await openKafka(config, "lifecycle", { ...producerMetrics(config.topicPrefix), log });
  const values = await openEventSerializer(config, names, ["orders"], { log, signal });
  reportSchemas(() => values.topics());
  const redis = connectRedis(config.redisUrl);
  const followVersion = schemaVersionFollower(new SchemaVersionSwitch(redis, config.cachePrefix), values, config.orderSchemaVersion, log);
  const following = every(() => 1000, followVersion, signal);
  const sender = recordSender(config, producer, names, values, log, "lifecycle");
  const emitter = new LifecycleEmitter(db, producer, sender, config.seed, config.speed);
  log.info(`publishing order lifecycle steps as they fall due (delays ÷ ${config.speed})`);
  const report = setInterval(() => log.info(`${emitter.emitted} lifecycle steps published so far`), 30_000);
  // a poll left at the stop only reads, and publishes nothing once the signal is aborted
  await periodically(
    LIFECYCLE_POLL_MS,
    async () => {
      await emitter.tick(new Date(), signal);
    },
    { log, signal },
    "could not read the due steps; trying again:",
    // a second between polls, however long a poll took: a backlog's slow due-steps read is not
    // repeated back to back over the rows it just published
    { pause: true },
  );
  clearInterval(report);
  await following;
  redis.disconnect();
  const lost = await sender.close(hurry);
  await db.end(); // bounded: a server that does not answer is not waited for
  log.info(`stopped after ${emitter.emitted} lifecycle steps published`);
  if (lost > 0) {
    log.error(`${lost} step(s) not acknowledged: they are published again at the next start`);
    process.exitCode = 1;
  }
});

import { openDatabase } from "../db/open.ts";
import { openKafka } from "../kafka/open.ts";
import { LifecycleEmitter } from "../pipeline/lifecycle.ts";
import { every, producerMetrics, runService } from "./runtime.ts";

const LIFECYCLE_POLL_MS = 1000;

// Publishes each order's lifecycle steps (shipped, delivered, cancelled, refunded) as they fall due,
// from the schedule the orders consumers keep in PostgreSQL (docs/design.md, "Order lifecycle").
runService("lifecycle", async ({ config, log, signal, hurry }) => {
  const sql = await openDatabase(config.databaseUrl, { max: 1 });
  const { names, producer } = await openKafka(config, "lifecycle", { ...producerMetrics(config.topicPrefix), log });
  const emitter = new LifecycleEmitter(sql, producer, names.topic("orders"), config.seed, config.speed);
  log.info(`publishing order lifecycle steps as they fall due (delays ÷ ${config.speed})`);
  const report = setInterval(() => log.info(`${emitter.emitted} lifecycle steps published so far`), 30_000);
  await every(
    () => LIFECYCLE_POLL_MS,
    async () => {
      try {
        await emitter.tick(new Date(), signal);
      } catch (err) {
        log.error("could not read the due steps; trying again", err);
      }
    },
    signal,
  );
  clearInterval(report);
  const lost = await producer.close(undefined, hurry);
  await sql.end();
  log.info(`stopped after ${emitter.emitted} lifecycle steps published`);
  if (lost > 0) {
    log.error(`${lost} step(s) not acknowledged: they are published again at the next start`);
    process.exitCode = 1;
  }
});

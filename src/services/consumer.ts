import { startEntityConsumer } from "../pipeline/batch-consumer.ts";
import { openKafka } from "../kafka/open.ts";
import { lifecycleSchedule } from "../lifecycle/steps.ts";
import { LIFECYCLE_STEPS } from "../domain/order-status.ts";
import { postgresSink } from "../pipeline/postgres-sink.ts";
import { ENTITY_TOPICS, type EntityTopic } from "../kafka/topics.ts";
import { openBoundedDatabase } from "../db/open.ts";
import { parkingLot } from "../db/parking.ts";
import { batchSize, consumed, dbWriteSeconds, deadLettered, parkedTotal, stored as storedTotal, transitions } from "../metrics/registry.ts";
import { schemaReader } from "../schemas/open.ts";
import { producerMetrics, runService, untilAborted } from "./runtime.ts";

// `bun run src/services/consumer.ts orders` — one instance of a consumer group; start three per
// topic (INSTANCE=1..3) for the nine consumers of docs/design.md, "Components".
const entity = process.argv[2] as EntityTopic;
if (!ENTITY_TOPICS.includes(entity)) {
  console.error(`usage: bun run src/services/consumer.ts <${ENTITY_TOPICS.join("|")}>`);
  process.exit(2);
}
runService(
  (config) => `${entity.replace(/s$/, "")}-consumer-${config.instance}`,
  async ({ config, log, signal, hurry, name: serviceName }) => {
    // orders: one more connection for the rounds over the parked records
    const db = await openBoundedDatabase(config.databaseUrl, { max: entity === "orders" ? 3 : 2, timeoutMs: config.pgQueryTimeoutMs });
    // the producer is only for dead letters
    const { client, names, producer: dlq } = await openKafka(config, serviceName, { ...producerMetrics(config.topicPrefix), log });
    let stored = 0;
    const consumer = await startEntityConsumer({
      client,
      names,
      entity,
      dlq,
      log,
      // only orders wait for what they reference (their user and product, a step for its order)
      parking: entity === "orders" ? parkingLot(db) : undefined,
      retryForMs: config.referenceWaitS * 1000,
      // every format and schema version, whichever producer wrote it
      schemas: schemaReader(config),
      sink: postgresSink(db, entity, {
        schedule: lifecycleSchedule(config.seed, config.speed),
        onTransitions: (applied) => {
          for (const step of applied) transitions.inc({ to: step.to });
        },
      }),
      onFatal: (err) => {
        // stopping anyway: the disconnect below ends the consumer, and the batch in hand stays
        // uncommitted and replays at the next start
        if (signal.aborted) return;
        // nothing past the last database commit was committed: exit and let the supervisor restart us
        log.error("the Kafka consumer stopped for good; exiting so that it is restarted", err);
        process.exit(1);
      },
      hooks: {
        onBatch: (b) => {
          stored += b.written;
          consumed.inc({ topic: entity }, b.size);
          storedTotal.inc({ topic: entity }, b.written);
          if (b.dlq) deadLettered.inc({ topic: entity }, b.dlq);
          if (b.parked) parkedTotal.inc({ topic: entity }, b.parked);
          batchSize.observe({ topic: entity }, b.size);
          dbWriteSeconds.observe({ topic: entity }, b.writeMs / 1000);
        },
        onParkedRound: (r) => {
          stored += r.written;
          storedTotal.inc({ topic: entity }, r.written);
          if (r.dlq) deadLettered.inc({ topic: entity }, r.dlq);
        },
      },
    });
    // every series of this topic exists from the start, at 0: "no dead letters" is a figure too
    for (const counter of [consumed, storedTotal, deadLettered, parkedTotal]) counter.inc({ topic: entity }, 0);
    if (entity === "orders") for (const to of LIFECYCLE_STEPS) transitions.inc({ to }, 0);
    log.info(`consuming ${names.topic(entity)} as ${names.group(entity)}`);
    const report = setInterval(() => log.info(`${stored} records stored so far`), 30_000);
    await untilAborted(signal); // a SIGTERM while it was starting counts too
    clearInterval(report);
    await consumer.stop(); // waits for the batch in hand (its offsets commit after its DB write), or gives it up when the write hangs
    await dlq.close(undefined, hurry); // a dead letter not delivered belongs to a batch left uncommitted: it is sent again
    await db.end(); // bounded: a server that does not answer is not waited for
    log.info(`stopped after ${stored} records stored`);
  },
);

import { newUserStep } from "../domain/curves.ts";
import { generateUsers } from "../domain/fake.ts";
import { Rng } from "../domain/random.ts";
import { openKafka } from "../kafka/open.ts";
import { reportSchemas } from "../metrics/registry.ts";
import { openEventSerializer } from "../schemas/open.ts";
import { producerMetrics, recordSender, runService, settledOrAborted, sleep } from "./runtime.ts";

// New sign-ups published to `users` along the decaying curve of docs/design.md, "Live cadence": 10 users every 10 s at
// launch, settling to 1 user every 120 s. Elapsed time runs `speed` times faster than the clock.

runService("user-seeder", async ({ config, log, signal, hurry }) => {
  const { speed } = config;
  const rng = new Rng(config.seed).fork("user-seeder");
  const { names, producer } = await openKafka(config, "user-seeder", { ...producerMetrics(config.topicPrefix), log });
  const values = await openEventSerializer(config, names, ["users"], { log, signal });
  reportSchemas(() => values.topics());
  const sender = recordSender(config, producer, names, values, log, "user-seeder");

  const started = Date.now();
  let published = 0;
  let inFlight: Promise<unknown> = Promise.resolve();
  while (!signal.aborted) {
    // the producer resends until Kafka acknowledges; waiting here keeps an outage from piling up
    // batches, and a stop ends the wait (close() below then reports what Kafka never took)
    await settledOrAborted(inFlight, signal);
    if (signal.aborted) break;
    const elapsedHours = ((Date.now() - started) * speed) / 3_600_000;
    const step = newUserStep(elapsedHours, config.userCurve);
    const now = new Date();
    const users = generateUsers(rng, step.batch, now, { createdAt: now });
    inFlight = Promise.all(users.map((u) => sender.send("users", u.id, u))).then(
      () => {
        published += users.length;
        log.info(`published ${users.length} new user(s) (${published} in all); next batch in ${(step.intervalS / speed).toFixed(1)} s`);
      },
      () => undefined, // rejected for good (logged and counted by the producer) or lost at shutdown (counted by close() below)
    );
    await sleep((step.intervalS * 1000) / speed, signal);
  }
  const lost = await sender.close(hurry);
  log.info(`stopped after ${published} users`);
  if (lost > 0) {
    log.error(
      `${lost} user(s) not delivered: ${hurry.aborted ? "the stop was forced" : "Kafka stayed unreachable through the shutdown timeout"}`,
    );
    process.exitCode = 1;
  }
});

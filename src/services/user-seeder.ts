import { parseLiveFlags } from "../cli/args.ts";
import { newUserStep } from "../domain/curves.ts";
import { generateUsers } from "../domain/fake.ts";
import { Rng } from "../domain/random.ts";
import type { User } from "../domain/types.ts";
import { encode } from "../kafka/envelope.ts";
import { openKafka } from "../kafka/open.ts";
import { runService, sleep } from "./runtime.ts";

// New sign-ups published to `users` along the decaying curve of SPEC 7: 10 users every 10 s at
// launch, settling to 1 user every 120 s. Elapsed time runs `speed` times faster than the clock.

runService("user-seeder", async ({ config, log, signal }) => {
  const speed = parseLiveFlags().speed ?? config.speed;
  const rng = new Rng(config.seed).fork("user-seeder");
  const { names, producer } = await openKafka(config, "user-seeder");

  const started = Date.now();
  let published = 0;
  let unsent: User[] = []; // a batch Kafka refused is sent again with the next one (ids make it idempotent)
  while (!signal.aborted) {
    const elapsedHours = ((Date.now() - started) * speed) / 3_600_000;
    const step = newUserStep(elapsedHours, config.userCurve);
    const now = new Date();
    const users = [...unsent, ...generateUsers(rng, step.batch, now, { createdAt: now })];
    try {
      await Promise.all(users.map((u) => producer.send(names.topic("users"), { key: u.id, value: encode("users", u) })));
      published += users.length;
      unsent = [];
      log.info(`published ${users.length} new user(s) (${published} in all); next batch in ${(step.intervalS / speed).toFixed(1)} s`);
    } catch (err) {
      unsent = users;
      log.error(`could not publish ${users.length} user(s); retrying with the next batch`, err);
    }
    await sleep((step.intervalS * 1000) / speed, signal);
  }
  await producer.close();
  log.info(`stopped after ${published} users`);
});

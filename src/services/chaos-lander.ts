import { landInjections } from "../db/chaos.ts";
import { withDb } from "../db/bounded.ts";
import { openBoundedDatabase } from "../db/open.ts";
import type { Injection } from "../domain/chaos.ts";
import { describe } from "../errors.ts";
import { openKafka } from "../kafka/open.ts";
import { StormLog } from "../log.ts";
import { runService, sleep, untilAborted } from "./runtime.ts";

// `bun run src/services/chaos-lander.ts`: lands the answer key (the chaos.key topic the writers fill
// under --chaos) in chaos_injections as it is produced (docs/design.md, "Chaos"); start:all runs it
// under --chaos. Landing is idempotent (one row per topic/partition/offset), so a batch read again
// after a restart changes nothing, and `bun run chaos-score` may land the same lines too.

runService("chaos-lander", async ({ config, log, signal }) => {
  const db = await openBoundedDatabase(config.databaseUrl, { max: 1, timeoutMs: config.pgQueryTimeoutMs });
  const { client, names, producer } = await openKafka(config, "chaos-lander", { log });
  const storm = new StormLog((line) => log.warn(line));
  let landed = 0;
  const consumer = await client.consume({
    group: `${config.topicPrefix}chaos.key_group`,
    topic: names.chaosKey(),
    onBatch: async (batch) => {
      const lines: (Injection & { at: string })[] = [];
      for (const m of batch.messages) {
        try {
          const line = JSON.parse(String(m.value)) as Injection & { at: string };
          if (line.offset !== null) lines.push(line);
        } catch {
          storm.note("not an answer key line", `${names.chaosKey()}: skipped`); // no writer of ours makes one
        }
      }
      try {
        landed += await withDb(db, "landing answer key lines", (sql) => landInjections(sql, lines));
        return true;
      } catch (err) {
        // PostgreSQL away: the batch is read again, nothing is skipped
        storm.note(describe(err), "could not land answer key lines (trying again):", lines.length);
        await sleep(1000, signal);
        return false;
      }
    },
    onFatal: (err) => {
      if (signal.aborted) return;
      log.error("the Kafka consumer stopped for good; exiting so that it is restarted", err);
      process.exit(1);
    },
  });
  log.info(`landing ${names.chaosKey()} in chaos_injections`);
  await untilAborted(signal);
  await consumer.stop();
  await producer.close(0);
  await db.end();
  log.info(`stopped after ${landed} answer key line(s) landed`);
});

import { gradeDistribution, recomputeGrades } from "../db/grades.ts";
import { openBoundedDatabase } from "../db/open.ts";
import { describe } from "../errors.ts";
import { StormLog } from "../log.ts";
import { every, runService } from "./runtime.ts";

runService("grade-updater", async ({ config, log, signal }) => {
  // bounded: a database that hangs fails the recompute within PG_QUERY_TIMEOUT_MS (docs/design.md, "Faults")
  const db = await openBoundedDatabase(config.databaseUrl, { max: 1, timeoutMs: config.pgQueryTimeoutMs });
  const periodMs = (config.gradeIntervalS * 1000) / config.speed;
  const storm = new StormLog((line) => log.error(line));
  log.info(`recomputing grades every ${(periodMs / 1000).toFixed(1)} s`);
  let started = 0;
  await every(
    () => Math.max(0, periodMs - (Date.now() - started)), // one recompute per period, however long it took
    async () => {
      started = Date.now();
      try {
        const { run, dist } = await db.run("the grade recompute", async (sql) => ({
          run: await recomputeGrades(sql, new Date(), "batch"),
          dist: await gradeDistribution(sql),
        }));
        log.info(
          `${run.changed} grade change(s) ${JSON.stringify(run.changedTo)}; now ${Object.entries(dist)
            .map(([g, n]) => `${g}=${n}`)
            .join(" ")}`,
        );
      } catch (err) {
        if (!signal.aborted) storm.note(describe(err), "grade recompute failed, retrying next period:");
      }
    },
    signal,
    // a recompute left at the stop is one statement (it commits wholly or not at all), and
    // recomputing again gives the same grades
    { immediately: true, leaveAtAbort: true },
  );
  storm.close();
  await db.end(); // bounded: a server that does not answer is not waited for
});

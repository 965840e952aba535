import { gradeDistribution, recomputeGrades } from "../db/grades.ts";
import { openBoundedDatabase } from "../db/open.ts";
import { periodically, runService } from "./runtime.ts";

runService("grade-updater", async ({ config, log, signal }) => {
  // bounded: a database that hangs fails the recompute within PG_QUERY_TIMEOUT_MS (docs/design.md, "Faults")
  const db = await openBoundedDatabase(config.databaseUrl, { max: 1, timeoutMs: config.pgQueryTimeoutMs });
  const periodMs = (config.gradeIntervalS * 1000) / config.speed;
  log.info(`recomputing grades every ${(periodMs / 1000).toFixed(1)} s`);
  // a recompute left at the stop is one statement (it commits wholly or not at all), and
  // recomputing again gives the same grades
  await periodically(
    periodMs,
    async () => {
      const { run, dist } = await db.run("the grade recompute", async (sql) => ({
        run: await recomputeGrades(sql, new Date(), "batch"),
        dist: await gradeDistribution(sql),
      }));
      const now = Object.entries(dist)
        .map(([g, n]) => `${g}=${n}`)
        .join(" ");
      log.info(`${run.changed} grade change(s) ${JSON.stringify(run.changedTo)}; now ${now}`);
    },
    { log, signal },
    "grade recompute failed, retrying next period:",
  );
  await db.end(); // bounded: a server that does not answer is not waited for
});

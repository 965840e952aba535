import { gradeDistribution, recomputeGrades } from "../db/grades.ts";
import { openDatabase } from "../db/open.ts";
import { runService, sleep } from "./runtime.ts";

runService("grade-updater", async ({ config, log, signal }) => {
  const sql = await openDatabase(config.databaseUrl, { max: 1 });
  const periodMs = (config.gradeIntervalS * 1000) / config.speed;
  log.info(`recomputing grades every ${(periodMs / 1000).toFixed(1)} s`);
  while (!signal.aborted) {
    const started = Date.now();
    try {
      const run = await recomputeGrades(sql, new Date(), "batch");
      const dist = await gradeDistribution(sql);
      log.info(
        `${run.changed} grade change(s) ${JSON.stringify(run.changedTo)}; now ${Object.entries(dist)
          .map(([g, n]) => `${g}=${n}`)
          .join(" ")}`,
      );
    } catch (err) {
      log.error("grade recompute failed, retrying next period", err);
    }
    await sleep(Math.max(0, periodMs - (Date.now() - started)), signal);
  }
  await sql.end();
});

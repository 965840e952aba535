import { connectRedis } from "../cache/client.ts";
import { describe } from "../errors.ts";
import { StormLog } from "../log.ts";
import { gradeWindowOrders, ShopClock, ShopClockFollower, type ShopClockState } from "../cache/shop-clock.ts";
import { gradeDistribution, recomputeGrades } from "../db/grades.ts";
import { openBoundedDatabase } from "../db/open.ts";
import { periodically, runService } from "./runtime.ts";

// The grade rule every GRADE_INTERVAL_S on the shop's clock (docs/design.md, "Grades"): the wall
// clock, or under --rate the simulated one the producer publishes, where six months are seconds —
// then the window is six simulated months ending at the latest order, and the recompute runs once
// a simulated week (at most every 5 s), so grades follow the orders as they would in a real shop.
runService("grade-updater", async ({ config, log, signal }) => {
  // bounded: a database that hangs fails the recompute within PG_QUERY_TIMEOUT_MS (docs/design.md, "Faults")
  const db = await openBoundedDatabase(config.databaseUrl, { max: 1, timeoutMs: config.pgQueryTimeoutMs });
  const redis = connectRedis(config.redisUrl);
  const redisAway = new StormLog((line) => log.warn(line));
  const shopClock = new ShopClockFollower(new ShopClock(redis, config.cachePrefix), (err) =>
    redisAway.note(describe(err), "cannot read the shop's clock from Redis, keeping the last one:"),
  );
  const wallPeriodMs = (config.gradeIntervalS * 1000) / config.speed;
  let clock: ShopClockState | null = null;
  let lastRunMs = Number.NEGATIVE_INFINITY;
  // a simulated week, but no more often than every 5 s: each run updates users the consumers update too
  const periodMs = () => (clock ? Math.min(wallPeriodMs, Math.max(LOOK_MS, 7 * clock.dayMs)) : wallPeriodMs);
  log.info(
    `recomputing grades every ${(wallPeriodMs / 1000).toFixed(1)} s (on a simulated clock: every simulated week, at most every 5 s)`,
  );
  // a recompute left at the stop is one statement (it commits wholly or not at all), and
  // recomputing again gives the same grades. The clock is looked at every 5 s, so a --rate run
  // starting is followed within seconds, not at the next wall-clock period.
  await periodically(
    () => Math.min(wallPeriodMs, LOOK_MS),
    async () => {
      const before = clock;
      clock = await shopClock.current();
      const switched = (clock === null) !== (before === null);
      if (switched) log.info(describeClock(clock));
      if (!switched && Date.now() - lastRunMs < periodMs() - LOOK_MS / 2) return;
      lastRunMs = Date.now();
      const asOf = clock ? new Date(Math.min(Date.now(), clock.at)) : new Date();
      const { run, dist } = await db.run("the grade recompute", async (sql) => ({
        run: await recomputeGrades(sql, asOf, "batch", clock ? gradeWindowOrders(clock) : undefined),
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
  redisAway.close();
  redis.disconnect();
  await db.end(); // bounded: a server that does not answer is not waited for
});

/** How often the clock is looked at, and the shortest period on a simulated clock. */
const LOOK_MS = 5000;

function describeClock(clock: ShopClockState | null): string {
  return clock
    ? `grades follow the shop's simulated clock: a day lasts ${clock.dayMs.toFixed(1)} ms, the window its latest ${Math.round(gradeWindowOrders(clock))} orders`
    : "grades follow the wall clock";
}

import { parseArgs } from "node:util";
import { openDatabase } from "../db/open.ts";
import { seedCatalogue } from "../db/seed.ts";
import { shopSize } from "../domain/shop-size.ts";
import { ORDERS_PER_CUSTOMER_DAY } from "../domain/order-spacing.ts";
import { type PeriodFlags, resolvePeriod } from "../historical/plan.ts";
import { progressPrinter } from "../historical/progress.ts";
import { resetHistorical, runHistorical } from "../historical/run.ts";
import { runService } from "../services/runtime.ts";
import { flagsOrUsage } from "./usage.ts";

// `bun run historical --year 2025 --seed 42 [--days N] [--scale K]` (docs/historical.md): a year of past orders
// straight into PostgreSQL, grades every 7 simulated days. See docs/historical.md.

const USAGE = `usage: bun run historical [--year YYYY | --start YYYY-MM-DD] [--days N] [--scale K] [--seed S]
                          [--new-users-per-day N] [--clicks] [--reset | --reset-only]
  --year Y              simulate calendar year Y (default: last year)
  --start D             simulate from Seoul date D instead (default 365 days)
  --days N              number of simulated days (alone: the N days before today)
  --scale K             volume multiplier: 1 = ~51,500 orders a year, 20 ≈ 1,000,000
  --seed S              seed of every draw (default: SEED, 42)
  --new-users-per-day N sign-ups added per simulated day (default 10 × scale)
                        (the shop grows with --scale: SEED_USERS × scale customers and
                        SEED_PRODUCTS × √scale products by the end of the period)
  --clicks              write the sessions and page events behind every order too
                        (about 34 events an order, by COPY: 1.7 million a year at scale 1)
  --reset               remove every historical row first, then generate
  --reset-only          remove every historical row and stop`;

interface Flags extends PeriodFlags {
  scale: number;
  seed?: string;
  newUsersPerDay?: number;
  reset: boolean;
  resetOnly: boolean;
  clicks: boolean;
  help: boolean;
}

export function parseHistoricalFlags(argv: string[]): Flags {
  const { values } = parseArgs({
    args: argv,
    options: {
      year: { type: "string" },
      start: { type: "string" },
      days: { type: "string" },
      scale: { type: "string" },
      seed: { type: "string" },
      "new-users-per-day": { type: "string" },
      reset: { type: "boolean", default: false },
      clicks: { type: "boolean", default: false },
      "reset-only": { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
    strict: true,
  });
  return {
    year: numberFlag("--year", values.year),
    start: values.start,
    days: numberFlag("--days", values.days),
    scale: numberFlag("--scale", values.scale) ?? 1,
    seed: values.seed,
    newUsersPerDay: numberFlag("--new-users-per-day", values["new-users-per-day"]),
    reset: values.reset,
    resetOnly: values["reset-only"],
    clicks: values.clicks,
    help: values.help,
  };
}

function numberFlag(flag: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (raw.trim() === "" || !Number.isFinite(n)) throw new Error(`${flag}: expected a number, got "${raw}"`);
  return n;
}

if (import.meta.main) {
  runService(
    "historical",
    async ({ config, log, signal }) => {
      const parsed = flagsOrUsage(USAGE, () => {
        const flags = parseHistoricalFlags(Bun.argv.slice(2));
        const period = resolvePeriod(flags, new Date());
        if (!(flags.scale > 0)) throw new Error(`--scale: expected a positive number, got ${flags.scale}`);
        if (flags.newUsersPerDay !== undefined && !(flags.newUsersPerDay >= 0))
          throw new Error(`--new-users-per-day: expected a number >= 0, got ${flags.newUsersPerDay}`);
        return { flags, period, help: flags.help };
      });
      if (!parsed) return;
      const { flags, period } = parsed;
      const seed = flags.seed ?? config.seed;
      // the COPYs of the orders, of their events and of the clicks, and the weekly grade recompute: a connection each
      const sql = await openDatabase(config.databaseUrl, { max: 4 });
      try {
        if (flags.resetOnly) {
          const r = await resetHistorical(sql);
          log.info(
            `removed ${r.orders} historical orders, ${r.gradeHistory} grade_history rows, ${r.users} customers, ${r.products} products, ${r.clicks} clicks`,
          );
          return;
        }
        // An empty database gets the initial catalogue "as of" the end of the period: users signed up
        // over the 5 years before it and products listed over the 2 years before it, so part of both
        // arrive during the simulated year and none is dated after it.
        const seeded = await seedCatalogue(sql, { seed, users: config.seedUsers, products: config.seedProducts, now: period.end });
        if (!seeded.skipped) log.info(`seeded ${seeded.users} users and ${seeded.products} products as of ${period.end.toISOString()}`);

        const scale = flags.scale;
        // the shop grows with the volume: customers and sign-ups in proportion, the catalogue by √scale
        const shop = shopSize(scale, { users: config.seedUsers, products: config.seedProducts, signUpsPerDay: 10 });
        const newUsersPerDay = flags.newUsersPerDay ?? shop.signUpsPerDay;
        log.info(
          `${period.days} days from ${period.start.toISOString()} (Seoul midnight), scale ${scale}, seed ${seed}, ${newUsersPerDay} sign-ups/day, ` +
            `a shop of ${shop.users} customers and ${shop.products} products`,
        );
        const bar = progressPrinter();
        const result = await runHistorical(sql, {
          seed,
          period,
          scale,
          newUsersPerDay,
          shop,
          reset: flags.reset,
          clicks: flags.clicks,
          signal,
          topN: config.producerTopN,
          onProgress: bar.update,
          log: log.info,
        });
        if (result.status === "skipped") {
          log.info(`skipped: ${result.reason}`);
          return;
        }
        bar.done({ daysDone: result.days, days: period.days, ordersDone: result.orders, orders: result.orders, elapsedMs: result.ms });
        const s = result.ms / 1000;
        log.info(
          `${result.status}: ${result.orders.toLocaleString("en-US")} orders and ${result.users} sign-ups over ${result.days} days in ${s.toFixed(1)} s ` +
            `(${Math.round(result.orders / s).toLocaleString("en-US")} orders/s); ${result.gradeRuns} grade runs, ${result.gradeChanges} changes, checked against the updater's SQL at ${result.gradeChecks}` +
            (result.unplaced ? `; ${result.unplaced} planned orders had no buyer or product yet` : "") +
            (flags.clicks
              ? `; ${result.clicks.toLocaleString("en-US")} clicks in ${result.sessions.toLocaleString("en-US")} sessions`
              : ""),
        );
        const { prepare, write, gradesTail, sync } = result.phaseMs;
        log.info(
          `time: prepare ${(prepare / 1000).toFixed(1)} s, generate+write ${(write / 1000).toFixed(1)} s, last grades+counts ${(gradesTail / 1000).toFixed(1)} s, last_ordered_at sync ${(sync / 1000).toFixed(1)} s`,
        );
        if (result.spacingOverruns > 0)
          log.warn(
            `${result.spacingOverruns} order(s) went to a customer already at ${ORDERS_PER_CUSTOMER_DAY} orders in 24 h: the buyer pool is too small for the volume`,
          );
        if (result.gradeMismatches > 0)
          log.warn(
            `${result.gradeMismatches} user grade(s) differed between the in-memory window and the updater's SQL (repaired by it at the checkpoint)`,
          );
        if (result.status === "interrupted") process.exitCode = 130;
      } finally {
        await sql.end();
      }
    },
    { ownFlags: true, metrics: false },
  );
}

// The historical year end to end (docs/historical.md; its statements in src/db/historical.ts):
// take the run's lock, decide whether this run is new (clearing what an unfinished or replaced
// run left), record it, grow the shop to the scale, then write the year (src/historical/year.ts)
// on three connections: orders, their events, and the grade lane (with --clicks, a fourth for them).
import type { Sql } from "../db/client.ts";
import {
  bulkSession,
  type ClearResult,
  catalogueSize,
  clearHistorical,
  lockRuns,
  previousRun,
  recordScenarioDays,
  resetSession,
  unlockRuns,
  writeRunRecord,
} from "../db/historical.ts";
import { generateProducts, generateUsers } from "../domain/fake.ts";
import { Rng } from "../domain/random.ts";
import { scenarioForDate } from "../domain/scenarios.ts";
import { seoulDate } from "../domain/seoul-time.ts";
import { GradeLane } from "./grade-lane.ts";
import { type DayPlan, type Period, planDays } from "./plan.ts";
import type { Progress } from "./progress.ts";
import { copyProducts, copyUsers } from "./writer.ts";
import { ClicksLane, EventsLane, type RunFigures, writeYear } from "./year.ts";

export interface HistoricalOptions {
  seed: string;
  period: Period;
  scale: number;
  /** Sign-ups added per simulated day (a steady trickle). */
  newUsersPerDay: number;
  /**
   * The customer base and catalogue the period ends with (shopSize of the scale): what the database
   * lacks is added first, signed up and listed as the initial seed would have been. Absent: as found.
   */
  shop?: { users: number; products: number };
  /** Clear every historical row first, even a finished run's. */
  reset?: boolean;
  /** Write the sessions and clicks behind every order too (docs/design.md, "Clickstream"). */
  clicks?: boolean;
  /** Buyers are drawn from the top N by propensity, as the live producer's (PRODUCER_TOP_N). */
  topN: number;
  signal?: AbortSignal;
  onProgress?: (p: Progress) => void;
  log?: (msg: string) => void;
}

/** What makes two runs the same run: same parameters, same seed → same rows. */
export interface RunParams {
  seed: string;
  start: string;
  days: number;
  scale: number;
  newUsersPerDay: number;
  shopUsers?: number;
  shopProducts?: number;
  /** Present (true) when the run writes the clickstream too. */
  clicks?: true;
}

export type HistoricalResult = { status: "skipped"; reason: string } | ({ status: "done" | "interrupted" } & RunFigures);

export async function runHistorical(sql: Sql, opts: HistoricalOptions): Promise<HistoricalResult> {
  const lanes = opts.clicks ? 4 : 3;
  if ((sql.options.max ?? 1) < lanes)
    throw new Error(
      `runHistorical needs a pool of at least ${lanes} connections (orders, their events, grades${opts.clicks ? " and clicks" : ""} are written side by side)`,
    );
  const started = performance.now();
  const conn = await sql.reserve();
  const gradeConn = await sql.reserve();
  const eventsConn = await sql.reserve();
  const clicksConn = opts.clicks ? await sql.reserve() : undefined;
  const events = new EventsLane(eventsConn);
  const clicks = clicksConn && new ClicksLane(clicksConn);
  let locked = false;
  try {
    locked = await lockRuns(conn);
    const prepared = await prepare(conn, opts);
    if ("skipped" in prepared) return { status: "skipped", reason: prepared.skipped };
    await bulkSession(conn, { sorting: "memory" });
    await bulkSession(eventsConn);
    if (clicksConn) await bulkSession(clicksConn);
    const grades = await GradeLane.open(gradeConn, opts.log ?? (() => {}));
    const figures = await writeYear({ conn, grades, events, clicks }, { ...opts, ...prepared }, started);
    if (figures.status === "done")
      await writeRunRecord(conn, { ...prepared.params, status: "done", orders: figures.orders, users: figures.users });
    return { ...figures, ms: performance.now() - started };
  } finally {
    await Promise.all([events.settled(), clicks?.settled()]); // settle either way: their connections are released below
    await Promise.allSettled([
      resetSession(conn),
      resetSession(gradeConn),
      resetSession(eventsConn),
      clicksConn && resetSession(clicksConn),
    ]);
    if (locked) await unlockRuns(conn);
    conn.release();
    gradeConn.release();
    eventsConn.release();
    clicksConn?.release();
  }
}

interface Prepared {
  params: RunParams;
  plan: DayPlan[];
  rng: Rng;
  grown: { users: number; products: number };
  cleared?: ClearResult;
}

/** Decides whether this run is new (clearing what an earlier one left), checks the catalogue, records the run and grows the shop. */
async function prepare(conn: Sql, opts: HistoricalOptions): Promise<Prepared | { skipped: string }> {
  const log = opts.log ?? (() => {});
  const params: RunParams = {
    seed: opts.seed,
    start: opts.period.start.toISOString(),
    days: opts.period.days,
    scale: opts.scale,
    newUsersPerDay: opts.newUsersPerDay,
    ...(opts.shop && { shopUsers: opts.shop.users, shopProducts: opts.shop.products }),
    ...(opts.clicks && { clicks: true as const }),
  };
  let cleared: ClearResult | undefined;
  const previous = await previousRun<Meta>(conn);
  if (opts.reset) {
    cleared = await clearHistorical(conn);
    log(
      `reset: removed ${cleared.orders} historical orders, ${cleared.gradeHistory} grade_history rows, ${cleared.users} sign-ups, ${cleared.clicks} clicks`,
    );
  } else if (previous.meta?.status === "done") {
    if (sameParams(previous.meta, params)) return { skipped: `already generated (${describeParams(params)}); --reset regenerates it` };
    throw new Error(`historical data of another run is present (${describeParams(previous.meta)}); rerun with --reset to replace it`);
  } else if (previous.meta || previous.rows) {
    cleared = await clearHistorical(conn);
    log(`cleared an unfinished run first (${cleared.orders} orders, ${cleared.users} sign-ups, ${cleared.clicks} clicks)`);
  }
  const have = await catalogueSize(conn);
  if (have.users === 0 || have.products === 0)
    throw new Error(`the catalogue is empty (${have.users} users, ${have.products} products): seed it first (bun run seed)`);
  await writeRunRecord(conn, { ...params, status: "running" });
  const plan = planDays(opts.period, opts.scale, opts.newUsersPerDay);
  await recordScenarioDays(
    conn,
    plan.map((d) => ({ day: seoulDay(d.start), scenario: scenarioForDate(d.start).id })),
  );
  const rng = new Rng(`historical:${opts.seed}`);
  const grown = opts.shop ? await growShop(conn, opts.shop, have, opts.period, rng.fork("shop")) : { users: 0, products: 0 };
  if (grown.users || grown.products) log(`grew the shop to the scale: ${grown.users} customers and ${grown.products} products added`);
  return { params, plan, rng, grown, cleared };
}

/** `--reset-only`: clears the historical rows under the lock a run holds. */
export async function resetHistorical(sql: Sql): Promise<ClearResult> {
  const conn = await sql.reserve();
  let locked = false;
  try {
    locked = await lockRuns(conn);
    return await clearHistorical(conn);
  } finally {
    if (locked) await unlockRuns(conn);
    conn.release();
  }
}

type Meta = RunParams & { status: "running" | "done"; orders?: number; users?: number };

function sameParams(a: RunParams, b: RunParams): boolean {
  return (
    a.seed === b.seed &&
    a.start === b.start &&
    a.days === b.days &&
    a.scale === b.scale &&
    a.newUsersPerDay === b.newUsersPerDay &&
    a.shopUsers === b.shopUsers &&
    a.shopProducts === b.shopProducts &&
    a.clicks === b.clicks
  );
}

function describeParams(p: RunParams): string {
  return (
    `seed ${p.seed}, ${p.days} days from ${p.start.slice(0, 10)}, scale ${p.scale}, ${p.newUsersPerDay} sign-ups/day` +
    (p.shopUsers !== undefined ? `, shop of ${p.shopUsers} customers and ${p.shopProducts} products` : "") +
    (p.clicks ? ", with its clickstream" : "")
  );
}

/**
 * Adds the customers and products the scale's shop has and the database lacks, generated as the
 * initial seed generates them "as of" the period's end (customers signed up over the 5 years before
 * it, products listed over the 2 years before it) and marked historical so a reset removes them.
 */
async function growShop(
  sql: Sql,
  target: { users: number; products: number },
  have: { users: number; products: number },
  period: Period,
  rng: Rng,
) {
  const users = generateUsers(rng.fork("users"), Math.max(0, target.users - have.users), period.end);
  const products = generateProducts(rng.fork("products"), Math.max(0, target.products - have.products), period.end);
  return { users: await copyUsers(sql, users), products: await copyProducts(sql, products) };
}

/** The Seoul calendar date of an instant, as YYYY-MM-DD. */
function seoulDay(at: Date): string {
  const { year, month, day } = seoulDate(at);
  return `${year}-${String(month).padStart(2, "0")}-${String(day).padStart(2, "0")}`;
}

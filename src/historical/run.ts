// The historical year end to end (docs/historical.md): decide whether this run is new, load the catalogue once,
// then week by week: COPY the week's sign-ups, stream the week's orders into one COPY as they are
// generated, and hand the week's grade changes (worked out in memory, checked against the live
// updater's SQL every few weeks) to a second connection while the next week is being written.
import type { Sql } from "../db/client.ts";
import { LOCKS } from "../db/locks.ts";
import { generateProducts, generateUsers } from "../domain/fake.ts";
import { COUNTED_STATUSES } from "../domain/lifecycle.ts";
import { Rng } from "../domain/random.ts";
import { scenarioForDate } from "../domain/scenarios.ts";
import { seoulDate } from "../domain/seoul-time.ts";
import type { User } from "../domain/types.ts";
import { generatorSettings, HistoricalGenerator, signUps } from "./generator.ts";
import { GradeLane, VERIFY_EVERY } from "./grade-lane.ts";
import { GradeWindow, type WindowOrder } from "./grade-window.ts";
import { type DayPlan, gradeCheckpoints, type Period, planDays } from "./plan.ts";
import { BuyerPool, ProductPool, type SimUser } from "../domain/pools.ts";
import type { Progress } from "./progress.ts";
import { type ClearResult, clearHistorical, META_KEY, syncLastOrdered, syncOrderCounts } from "./reset.ts";
import { CopyStream, copyChunks } from "../db/copy.ts";
import { copyProducts, copyUsers, EVENT_COPY_COLUMNS, eventCopyLines, ORDER_COPY_COLUMNS, orderCopyLine } from "./writer.ts";
import { asError, bestEffort } from "../errors.ts";

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
}

export interface RunFigures {
  orders: number;
  users: number;
  days: number;
  ms: number;
  gradeRuns: number;
  gradeChanges: number;
  /** Checkpoints at which every user's grade was checked against the updater's SQL. */
  gradeChecks: number;
  /** Users whose grade differed from the updater's SQL, summed over the checked checkpoints (0 expected). */
  gradeMismatches: number;
  /** Planned orders with nobody signed up or nothing listed yet to place them. */
  unplaced: number;
  /** Customers and products added to reach the scale's shop size. */
  grown: { users: number; products: number };
  /** Orders given to a customer already at the daily ceiling (0 expected). */
  spacingOverruns: number;
  /** Where the time went: load and clear, generating + writing, the last grade runs (with the order-count sync), the last_ordered_at sync. */
  phaseMs: { prepare: number; write: number; gradesTail: number; sync: number };
  cleared?: ClearResult;
}

export type HistoricalResult = { status: "skipped"; reason: string } | ({ status: "done" | "interrupted" } & RunFigures);

export async function runHistorical(sql: Sql, opts: HistoricalOptions): Promise<HistoricalResult> {
  if ((sql.options.max ?? 1) < 3)
    throw new Error("runHistorical needs a pool of at least 3 connections (orders, their events and grades are written side by side)");
  const log = opts.log ?? (() => {});
  const started = performance.now();
  const params: RunParams = {
    seed: opts.seed,
    start: opts.period.start.toISOString(),
    days: opts.period.days,
    scale: opts.scale,
    newUsersPerDay: opts.newUsersPerDay,
    ...(opts.shop && { shopUsers: opts.shop.users, shopProducts: opts.shop.products }),
  };
  const plan = planDays(opts.period, opts.scale, opts.newUsersPerDay);
  const conn = await sql.reserve();
  const gradeConn = await sql.reserve();
  const eventsConn = await sql.reserve();
  // a week's order_events go in on their own connection while the next week is generated, once the
  // orders they reference are committed; resolves to that COPY's error, if it failed
  let eventsCopied: Promise<unknown> = Promise.resolve(null);
  let locked = false;
  try {
    locked = await lockRuns(conn);

    let cleared: ClearResult | undefined;
    const previous = await previousRun(conn);
    if (opts.reset) {
      cleared = await clearHistorical(conn);
      log(`reset: removed ${cleared.orders} historical orders, ${cleared.gradeHistory} grade_history rows, ${cleared.users} sign-ups`);
    } else if (previous.meta?.status === "done") {
      if (sameParams(previous.meta, params))
        return { status: "skipped", reason: `already generated (${describeParams(params)}); --reset regenerates it` };
      throw new Error(`historical data of another run is present (${describeParams(previous.meta)}); rerun with --reset to replace it`);
    } else if (previous.meta || previous.rows) {
      cleared = await clearHistorical(conn);
      log(`cleared an unfinished run first (${cleared.orders} orders, ${cleared.users} sign-ups)`);
    }

    const [{ users, products }] =
      (await conn`select (select count(*) from users)::int as users, (select count(*) from products)::int as products`) as unknown as [
        { users: number; products: number },
      ];
    if (users === 0 || products === 0)
      throw new Error(`the catalogue is empty (${users} users, ${products} products): seed it first (bun run seed)`);
    await conn`insert into shopstream_meta (key, value) values (${META_KEY}, ${conn.json({ ...params, status: "running" })})
               on conflict (key) do update set value = excluded.value, updated_at = now()`;
    await recordScenarioDays(conn, plan);
    const rng = new Rng(`historical:${opts.seed}`);
    const grown = opts.shop
      ? await growShop(conn, opts.shop, { users, products }, opts.period, rng.fork("shop"))
      : { users: 0, products: 0 };
    if (grown.users || grown.products) log(`grew the shop to the scale: ${grown.users} customers and ${grown.products} products added`);
    // a crash loses at most the last commits, and an unfinished run is cleared and redone anyway
    await conn`select set_config('synchronous_commit', 'off', false), set_config('work_mem', '64MB', false)`;
    await eventsConn`select set_config('synchronous_commit', 'off', false)`;
    const lane = await GradeLane.open(gradeConn, log);
    const checkpoints = gradeCheckpoints(opts.period);
    const windowStarts = await lane.windowStarts(checkpoints);

    const state = await loadState(conn, opts.period, windowStarts[0] as number);
    const generator = new HistoricalGenerator(
      state.buyers,
      state.products,
      state.window,
      rng.fork("orders"),
      generatorSettings(opts.topN, { seed: `historical:${opts.seed}`, untilMs: opts.period.end.getTime() }),
    );
    const signUpRng = rng.fork("sign-ups");
    const takenEmails = new Set<string>();
    const weeks = checkpoints.map((checkpoint, k) => ({
      checkpoint,
      windowStart: windowStarts[k] as number,
      days: plan.filter((d) => d.start >= (checkpoints[k - 1] ?? opts.period.start) && d.start < checkpoint),
    }));
    const signUpsOf = (week: { days: DayPlan[] } | undefined) => week?.days.flatMap((d) => signUps(d, signUpRng, takenEmails)) ?? [];

    const totalOrders = plan.reduce((s, d) => s + d.orders, 0);
    const phaseMs = { prepare: performance.now() - started, write: 0, gradesTail: 0, sync: 0 };
    const figures: RunFigures = {
      orders: 0,
      users: 0,
      days: 0,
      ms: 0,
      gradeRuns: 0,
      gradeChanges: 0,
      gradeChecks: 0,
      gradeMismatches: 0,
      unplaced: 0,
      grown,
      spacingOverruns: 0,
      phaseMs,
      cleared,
    };
    const progress = (): Progress => ({
      daysDone: figures.days,
      days: plan.length,
      ordersDone: figures.orders,
      orders: totalOrders,
      elapsedMs: performance.now() - started,
    });

    let interrupted = false;
    const eventsDone = async () => {
      const failed = await eventsCopied;
      if (failed) throw failed;
    };
    let newUsers = signUpsOf(weeks[0]);
    for (const [k, week] of weeks.entries()) {
      state.buyers.addSignUps(newUsers.map(simUser));
      figures.users += await copyUsers(conn, newUsers);
      const stream = await CopyStream.open(conn, "orders", ORDER_COPY_COLUMNS);
      let events = "";
      try {
        for (const d of week.days) {
          if (opts.signal?.aborted) {
            interrupted = true;
            break;
          }
          lane.throwIfFailed();
          let text = "";
          figures.orders += generator.day(d, (o, done) => {
            text += orderCopyLine(o, done);
            events += eventCopyLines(o.id, done);
          });
          await stream.write(text);
          figures.days++;
          opts.onProgress?.(progress());
        }
      } catch (err) {
        stream.abort(err);
        throw err;
      }
      const committed = stream.end();
      // next week's sign-ups while PostgreSQL works through the rest of this week's COPY
      newUsers = interrupted ? [] : signUpsOf(weeks[k + 1]);
      await committed;
      await eventsDone();
      eventsCopied = copyChunks(eventsConn, "order_events", EVENT_COPY_COLUMNS, [events]).then(
        () => null,
        (err: unknown) => asError(err),
      );
      if (interrupted) break;
      const verify = (k + 1) % VERIFY_EVERY === 0 || k === weeks.length - 1;
      lane.queue(week.checkpoint, generator.checkpoint(week.checkpoint.getTime(), week.windowStart), figures.orders, verify);
    }
    await eventsDone();
    let mark = performance.now();
    phaseMs.write = mark - started - phaseMs.prepare;
    // order counts meanwhile (products only: the grade lane is updating users)
    await Promise.all([lane.drain(), interrupted ? 0 : syncOrderCounts(conn)]);
    phaseMs.gradesTail = performance.now() - mark;
    Object.assign(figures, {
      gradeRuns: lane.runs,
      gradeChanges: lane.changes,
      gradeChecks: lane.checks,
      gradeMismatches: lane.mismatches,
      unplaced: generator.unplaced,
      spacingOverruns: generator.spacingOverruns,
    });
    if (interrupted) {
      log("interrupted: the rows written so far stay until the next run, which clears them and starts over");
      return { status: "interrupted", ...figures, ms: performance.now() - started };
    }
    mark = performance.now();
    await syncLastOrdered(conn);
    phaseMs.sync = performance.now() - mark;
    await conn`update shopstream_meta set value = ${conn.json({ ...params, status: "done", orders: figures.orders, users: figures.users })}, updated_at = now()
               where key = ${META_KEY}`;
    return { status: "done", ...figures, ms: performance.now() - started };
  } finally {
    await eventsCopied; // settles either way (see above): its connection is released below
    await Promise.allSettled([conn`reset all`, gradeConn`reset all`, eventsConn`reset all`]);
    if (locked) await unlockRuns(conn);
    conn.release();
    gradeConn.release();
    eventsConn.release();
  }
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

/**
 * One historical run per database, and no live write beside it: the consumers' transactions claim
 * LOCKS.liveWrites shared, this run holds it exclusive (waiting for the writes in flight to commit),
 * so its counter sync and its reset never overwrite or truncate what a consumer writes meanwhile.
 * The consumers pause and retry until it ends (src/db/locks.ts).
 */
async function lockRuns(conn: Sql): Promise<true> {
  const [lock] = await conn`select pg_try_advisory_lock(${LOCKS.historical}) as ok`;
  if (lock?.ok !== true) throw new Error("another historical run is writing to this database");
  await conn`select pg_advisory_lock(${LOCKS.liveWrites})`;
  return true;
}

async function unlockRuns(conn: Sql): Promise<void> {
  await bestEffort(conn`select pg_advisory_unlock(${LOCKS.liveWrites})`);
  await bestEffort(conn`select pg_advisory_unlock(${LOCKS.historical})`);
}

type Meta = RunParams & { status: "running" | "done"; orders?: number; users?: number };

async function previousRun(sql: Sql): Promise<{ meta: Meta | null; rows: boolean }> {
  const [meta] = await sql<{ value: Meta }[]>`select value from shopstream_meta where key = ${META_KEY}`;
  const [rows] = await sql<{ any: boolean }[]>`
    select exists (select 1 from orders where source = 'historical') or exists (select 1 from users where source = 'historical') as any`;
  return { meta: meta?.value ?? null, rows: rows?.any === true };
}

function sameParams(a: RunParams, b: RunParams): boolean {
  return (
    a.seed === b.seed &&
    a.start === b.start &&
    a.days === b.days &&
    a.scale === b.scale &&
    a.newUsersPerDay === b.newUsersPerDay &&
    a.shopUsers === b.shopUsers &&
    a.shopProducts === b.shopProducts
  );
}

function describeParams(p: RunParams): string {
  return (
    `seed ${p.seed}, ${p.days} days from ${p.start.slice(0, 10)}, scale ${p.scale}, ${p.newUsersPerDay} sign-ups/day` +
    (p.shopUsers !== undefined ? `, shop of ${p.shopUsers} customers and ${p.shopProducts} products` : "")
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

/** Which scenario each day of the period runs under (the calendar's), for analyses of the year. */
async function recordScenarioDays(sql: Sql, plan: readonly DayPlan[]): Promise<void> {
  const days = plan.map((d) => ({ day: seoulDay(d.start), scenario: scenarioForDate(d.start).id }));
  if (days.length === 0) return;
  await sql`insert into scenario_days ${sql(days, "day", "scenario")}
            on conflict (day) do update set scenario = excluded.scenario`;
}

/** The Seoul calendar date of an instant, as YYYY-MM-DD. */
function seoulDay(at: Date): string {
  const { year, month, day } = seoulDate(at);
  return `${year}-${String(month).padStart(2, "0")}-${String(day).padStart(2, "0")}`;
}

/** What the simulation needs of a user row. */
type UserRow = Pick<User, "id" | "gender" | "age" | "region" | "status" | "marketing_opt_in" | "grade" | "created_at">;

function simUser(u: UserRow): Omit<SimUser, "idx"> {
  return {
    id: u.id,
    gender: u.gender,
    age: u.age,
    region: u.region,
    status: u.status,
    marketing_opt_in: u.marketing_opt_in,
    grade: u.grade,
    createdMs: u.created_at.getTime(),
  };
}

/**
 * Users and products as they stood when the period starts (last order and order count up to then),
 * and the live PAID orders any grade window of the period can reach.
 */
async function loadState(sql: Sql, period: Period, firstBoundMs: number) {
  const start = period.start;
  const userRows = await sql<(UserRow & { last_at: Date | null })[]>`
    select u.id, u.gender, u.age, u.region, u.status, u.marketing_opt_in, u.grade, u.created_at, l.last_at
    from users u left join (select user_id, max(created_at) as last_at from orders where created_at <= ${start} group by user_id) l on l.user_id = u.id`;
  const buyers = new BuyerPool(
    userRows.map((r) => ({ ...simUser(r), lastOrderedMs: r.last_at ? r.last_at.getTime() : null })),
    start.getTime(),
  );
  const productRows = await sql<{ id: string; category: string; price: number; created_at: Date; n: number }[]>`
    select p.id, p.category, p.price, p.created_at, coalesce(c.n, 0)::int as n
    from products p left join (select product_id, count(*) as n from orders where created_at <= ${start} group by product_id) c on c.product_id = p.id`;
  const products = new ProductPool(
    productRows.map((r) => ({ id: r.id, category: r.category, price: r.price, createdMs: r.created_at.getTime(), orderCount: r.n })),
  );
  const idx = new Map(buyers.users.map((u) => [u.id, u.idx]));
  const live = await sql<{ user_id: string; total_amount: string; created_at: Date }[]>`
    select user_id, total_amount, created_at from orders
    where status = any(${sql.array([...COUNTED_STATUSES])}::text[]) and created_at > ${new Date(firstBoundMs)} and created_at <= ${period.end}
    order by created_at, id`;
  const existing: WindowOrder[] = [];
  for (const o of live) {
    const user = idx.get(o.user_id);
    if (user !== undefined) existing.push({ user, amount: Number(o.total_amount), ms: o.created_at.getTime() });
  }
  return { buyers, products, window: new GradeWindow(existing) };
}

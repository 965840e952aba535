// Writing the historical year once its run is decided (src/historical/run.ts): week by week, COPY
// the week's sign-ups, stream the week's orders into one COPY as they are generated, and hand the
// week's order_events and grade changes to their own connections while the next week is written.
import type { Sql } from "../db/client.ts";
import { CopyStream, copyChunks } from "../db/copy.ts";
import { type ClearResult, periodStart, syncLastOrdered, syncOrderCounts } from "../db/historical.ts";
import { COUNTED_STATUSES } from "../domain/order-status.ts";
import { BuyerPool } from "../domain/buyer-pool.ts";
import type { SimUser } from "../domain/pools.ts";
import { ProductPool } from "../domain/product-pool.ts";
import type { Rng } from "../domain/random.ts";
import type { Scenario } from "../domain/scenarios.ts";
import type { Order, User } from "../domain/types.ts";
import { asError } from "../errors.ts";
import { type Click, Clickstream, foldSessions } from "../domain/clickstream.ts";
import type { SimProduct } from "../domain/pools.ts";
import { generatorSettings, HistoricalGenerator, signUps } from "./generator.ts";
import { type GradeLane, VERIFY_EVERY } from "./grade-lane.ts";
import { GradeWindow, type WindowOrder } from "./grade-window.ts";
import { DAY_MS, type DayPlan, gradeCheckpoints, type Period } from "./plan.ts";
import type { Progress } from "./progress.ts";
import {
  CLICK_COPY_COLUMNS,
  clickCopyLines,
  copyUsers,
  EVENT_COPY_COLUMNS,
  eventCopyLines,
  ORDER_COPY_COLUMNS,
  orderCopyLine,
  SESSION_COPY_COLUMNS,
  sessionCopyLines,
} from "./writer.ts";

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
  /** With --clicks: the page events and sessions written. */
  clicks: number;
  sessions: number;
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

/** What the year is written from: the run's options and what its preparation decided. */
export interface Year {
  seed: string;
  period: Period;
  topN: number;
  plan: DayPlan[];
  rng: Rng;
  grown: { users: number; products: number };
  cleared?: ClearResult;
  /** Write the sessions and clicks behind every order too (docs/design.md, "Clickstream"). */
  clicks?: boolean;
  signal?: AbortSignal;
  onProgress?: (p: Progress) => void;
  log?: (msg: string) => void;
}

/**
 * A week's order_events go in on their own connection while the next week is generated, once the
 * orders they reference are committed. A failed COPY is held until the next week asks (done()).
 */
export class EventsLane {
  private copied: Promise<Error | null> = Promise.resolve(null);
  constructor(private readonly conn: Sql) {}
  async done(): Promise<void> {
    const failed = await this.copied;
    if (failed) throw failed;
  }
  start(events: string): void {
    this.copied = copyChunks(this.conn, "order_events", EVENT_COPY_COLUMNS, [events]).then(
      () => null,
      (err: unknown) => asError(err),
    );
  }
  async settled(): Promise<void> {
    await this.copied;
  }
}

/**
 * With --clicks, a day's clicks and sessions go in on a connection of their own while the next day
 * is generated (nothing references them, so they need not wait for the orders): a day in memory at
 * a time, where a week of clicks at scale 20 is some 800,000 rows. A failed COPY is held until the
 * next day asks (add()) or the run ends (done()).
 */
export class ClicksLane {
  private copied: Promise<Error | null> = Promise.resolve(null);
  private closed = false;
  constructor(private readonly conn: Sql) {}
  /**
   * Queues the day's COPY behind the day before's and waits for that one (so at most one day's text
   * waits); fails with an earlier day's error. Queued synchronously: settled() covers every COPY.
   */
  add(clicks: string, sessions: string): Promise<void> {
    const before = this.copied;
    this.copied = before.then(async (failed) => {
      if (failed || this.closed || !clicks) return failed;
      try {
        await copyChunks(this.conn, "click_events", CLICK_COPY_COLUMNS, [clicks]);
        await copyChunks(this.conn, "sessions", SESSION_COPY_COLUMNS, [sessions]);
        return null;
      } catch (err) {
        return asError(err);
      }
    });
    return before.then((failed) => {
      if (failed) throw failed;
    });
  }
  async done(): Promise<void> {
    const failed = await this.copied;
    if (failed) throw failed;
  }
  /** Lets what is running finish and starts nothing more: the connection is released after. */
  async settled(): Promise<void> {
    this.closed = true;
    await this.copied;
  }
}

interface Week {
  checkpoint: Date;
  windowStart: number;
  days: DayPlan[];
}

/** Writes the year; "interrupted" when the signal aborted it (the rows so far stay until the next run clears them). */
export async function writeYear(
  lanes: { conn: Sql; grades: GradeLane; events: EventsLane; clicks?: ClicksLane },
  year: Year,
  started: number,
): Promise<{ status: "done" | "interrupted" } & RunFigures> {
  const { conn, grades } = lanes;
  const checkpoints = gradeCheckpoints(year.period);
  const windowStarts = await grades.windowStarts(checkpoints);
  const state = await loadState(conn, year.period, windowStarts[0] as number);
  const generator = new HistoricalGenerator(
    state.buyers,
    state.products,
    state.window,
    year.rng.fork("orders"),
    generatorSettings(year.topN, { seed: `historical:${year.seed}`, untilMs: year.period.end.getTime() }),
  );
  const signUpRng = year.rng.fork("sign-ups");
  // --clicks: the sessions behind each order browse the hour's pools, from a stream of their own
  if (year.clicks && !lanes.clicks) throw new Error("writeYear: --clicks needs a clicks lane (a connection of its own)");
  const clicks =
    year.clicks && lanes.clicks
      ? {
          stream: new Clickstream<SimProduct, SimUser>(),
          rng: year.rng.fork("clicks"),
          lane: lanes.clicks,
          /** Clicks as COPY text for click_events and their sessions, counted. */
          text(made: readonly Click[]) {
            const sessions = foldSessions(made);
            figures.clicks += made.length;
            figures.sessions += sessions.length;
            return { clicks: clickCopyLines(made), sessions: sessionCopyLines(sessions) };
          },
        }
      : null;
  if (clicks) generator.onRefresh = (users, products) => clicks.stream.setCatalogue(users, products);
  const takenEmails = new Set<string>();
  const weeks: Week[] = checkpoints.map((checkpoint, k) => ({
    checkpoint,
    windowStart: windowStarts[k] as number,
    days: year.plan.filter((d) => d.start >= (checkpoints[k - 1] ?? year.period.start) && d.start < checkpoint),
  }));
  const signUpsOf = (week: Week | undefined) => week?.days.flatMap((d) => signUps(d, signUpRng, takenEmails)) ?? [];
  const totalOrders = year.plan.reduce((s, d) => s + d.orders, 0);
  const phaseMs = { prepare: performance.now() - started, write: 0, gradesTail: 0, sync: 0 };
  const figures: RunFigures = {
    ...{ orders: 0, users: 0, days: 0, ms: 0, gradeRuns: 0, gradeChanges: 0, gradeChecks: 0, gradeMismatches: 0, unplaced: 0 },
    ...{ clicks: 0, sessions: 0 },
    ...{ grown: year.grown, spacingOverruns: 0, phaseMs, cleared: year.cleared },
  };
  const progress = (): Progress => ({
    daysDone: figures.days,
    days: year.plan.length,
    ordersDone: figures.orders,
    orders: totalOrders,
    elapsedMs: performance.now() - started,
  });

  let interrupted = false;
  let newUsers = signUpsOf(weeks[0]);
  for (const [k, week] of weeks.entries()) {
    state.buyers.addSignUps(newUsers.map(simUser));
    figures.users += await copyUsers(conn, newUsers);
    const weekSignUps = newUsers;
    const written = await writeWeek(
      lanes,
      week,
      (d, emit) => {
        if (year.signal?.aborted) return false;
        figures.orders += generator.day(d, emit);
        return true;
      },
      () => {
        figures.days++;
        year.onProgress?.(progress());
      },
      clicks && {
        lane: clicks.lane,
        // the session each of the week's sign-ups signed up in, drawn after their day's orders (the catalogue of that day)
        signedUp: (d) => {
          const end = d.start.getTime() + DAY_MS;
          const theirs = weekSignUps.filter((u) => u.created_at >= d.start && u.created_at.getTime() < end);
          return clicks.text(theirs.flatMap((u) => clicks.stream.signUpSession(clicks.rng, u)));
        },
        of: (order, scenario) => {
          // the visitors at the login wall leave: the year's sign-ups come in through their own sessions
          const made = clicks.stream.forOrder(clicks.rng, order, scenario, { signUps: false });
          return { ...clicks.text(made.clicks), purchaseSession: made.purchaseSession };
        },
      },
    );
    interrupted = !written.complete;
    // next week's sign-ups while PostgreSQL works through the rest of this week's COPY
    newUsers = interrupted ? [] : signUpsOf(weeks[k + 1]);
    await written.committed;
    await lanes.events.done();
    lanes.events.start(written.events);
    if (interrupted) break;
    const verify = (k + 1) % VERIFY_EVERY === 0 || k === weeks.length - 1;
    grades.queue(week.checkpoint, generator.checkpoint(week.checkpoint.getTime(), week.windowStart), figures.orders, verify);
  }
  await Promise.all([lanes.events.done(), lanes.clicks?.done()]);
  let mark = performance.now();
  phaseMs.write = mark - started - phaseMs.prepare;
  // order counts meanwhile (products only: the grade lane is updating users)
  await Promise.all([grades.drain(), interrupted ? 0 : syncOrderCounts(conn)]);
  phaseMs.gradesTail = performance.now() - mark;
  Object.assign(figures, {
    gradeRuns: grades.runs,
    gradeChanges: grades.changes,
    gradeChecks: grades.checks,
    gradeMismatches: grades.mismatches,
    unplaced: generator.unplaced,
    spacingOverruns: generator.spacingOverruns,
  });
  if (interrupted) {
    year.log?.("interrupted: the rows written so far stay until the next run, which clears them and starts over");
    return { status: "interrupted", ...figures };
  }
  mark = performance.now();
  await syncLastOrdered(conn);
  phaseMs.sync = performance.now() - mark;
  return { status: "done", ...figures };
}

type Emit = Parameters<HistoricalGenerator["day"]>[1];
/** An order's sessions and clicks as COPY text, and the session it was placed in. */
type OrderClicks = (order: Order, scenario: Scenario) => { clicks: string; sessions: string; purchaseSession: string };

/**
 * One week's orders in one COPY, day by day (`day` generates a day's orders, false once the run
 * is interrupted); returns the week's order_events as COPY text and the COPY's commit, which
 * PostgreSQL finishes while the caller prepares the next week. With `clicks`, each day's clicks and
 * sessions go to their lane as the day ends.
 */
async function writeWeek(
  lanes: { conn: Sql; grades: GradeLane },
  week: Week,
  day: (d: DayPlan, emit: Emit) => boolean,
  dayDone: () => void,
  clicks?: { of: OrderClicks; signedUp: (d: DayPlan) => { clicks: string; sessions: string }; lane: ClicksLane } | null,
): Promise<{ complete: boolean; events: string; committed: Promise<unknown> }> {
  const stream = await CopyStream.open(lanes.conn, "orders", ORDER_COPY_COLUMNS);
  let events = "";
  let complete = true;
  try {
    for (const d of week.days) {
      lanes.grades.throwIfFailed();
      let text = "";
      let clickText = "";
      let sessionText = "";
      const ran = day(d, (o, done, scenario) => {
        const made = clicks?.of(o, scenario);
        text += orderCopyLine(o, done, made?.purchaseSession);
        events += eventCopyLines(o.id, done);
        if (made) {
          clickText += made.clicks;
          sessionText += made.sessions;
        }
      });
      if (!ran) {
        complete = false;
        break;
      }
      if (clicks) {
        const signedUp = clicks.signedUp(d);
        clickText += signedUp.clicks;
        sessionText += signedUp.sessions;
      }
      await Promise.all([stream.write(text), clicks?.lane.add(clickText, sessionText)]);
      dayDone();
    }
  } catch (err) {
    stream.abort(err);
    throw err;
  }
  return { complete, events, committed: stream.end() };
}

/** What the simulation needs of a user row. */
type UserRow = Pick<User, "id" | "gender" | "age" | "region" | "status" | "marketing_opt_in" | "grade" | "created_at">;

function simUser(u: UserRow): Omit<SimUser, "idx" | "appetite"> {
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
  const rows = await periodStart(sql, period.start, { statuses: COUNTED_STATUSES, after: new Date(firstBoundMs), until: period.end });
  const buyers = new BuyerPool(
    rows.users.map((r) => ({ ...simUser(r), lastOrderedMs: r.last_at ? r.last_at.getTime() : null })),
    period.start.getTime(),
  );
  const products = new ProductPool(
    rows.products.map((r) => ({ id: r.id, category: r.category, price: r.price, createdMs: r.created_at.getTime(), orderCount: r.n })),
  );
  const idx = new Map(buyers.users.map((u) => [u.id, u.idx]));
  const existing: WindowOrder[] = [];
  for (const o of rows.counted) {
    const user = idx.get(o.user_id);
    if (user !== undefined) existing.push({ user, amount: Number(o.total_amount), ms: o.created_at.getTime() });
  }
  return { buyers, products, window: new GradeWindow(existing) };
}

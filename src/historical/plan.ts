// The historical year's volume (docs/historical.md), decided before any order exists: how many orders each
// simulated day gets, in which hours, and when grades are recomputed. Pure: plain numbers in, plain
// numbers out, so the realism is testable without a database.
import { HOURLY_VOLUME } from "../domain/curves.ts";
import { type Rng, WeightedTable } from "../domain/random.ts";
import { scenarioForDate } from "../domain/scenarios.ts";
import { seoulDate, seoulDayFlag, seoulTime } from "../domain/seoul-time.ts";

export const DAY_MS = 86_400_000;
export const HOUR_MS = 3_600_000;

/**
 * Orders per calendar month at scale 1, January..December. The ends are fixed (3,000 → 6,000);
 * the steps between follow 3000 + 3000·(m/11)^1.35, rounded to 100, so the year sums to the
 * original's 51,500 (a straight line would give 54,000).
 */
export const MONTHLY_BASE: readonly number[] = [3000, 3100, 3300, 3500, 3800, 4000, 4300, 4600, 5000, 5300, 5600, 6000];

/** Day-of-week weights, Sunday..Saturday (Mon–Thu 0.95, Fri 1.15, Sat–Sun 1.3). */
export const WEEKDAY_WEIGHTS: readonly number[] = [1.3, 0.95, 0.95, 0.95, 0.95, 1.15, 1.3];

/** Grades are recomputed every this many simulated days. */
export const GRADE_EVERY_DAYS = 7;

export interface Period {
  /** Seoul midnight of the first simulated day. */
  start: Date;
  days: number;
  /** Seoul midnight after the last simulated day. */
  end: Date;
}

export interface PeriodFlags {
  year?: number;
  /** YYYY-MM-DD, a Seoul date. */
  start?: string;
  days?: number;
}

/**
 * `--start` wins, then `--year` (the whole calendar year unless `--days`); with neither, `--days N`
 * means the N days before today and no flag at all means last calendar year.
 */
export function resolvePeriod(flags: PeriodFlags, today: Date): Period {
  const { days } = flags;
  if (days !== undefined && !(Number.isInteger(days) && days >= 1 && days <= 3660))
    throw new Error(`--days: expected a whole number of days from 1 to 3660, got ${days}`);
  let start: Date;
  let n: number;
  if (flags.start !== undefined) {
    start = seoulDayFlag("--start", flags.start);
    n = days ?? 365;
  } else if (flags.year !== undefined) {
    const y = flags.year;
    if (!(Number.isInteger(y) && y >= 1970 && y <= 2100)) throw new Error(`--year: expected a year from 1970 to 2100, got ${y}`);
    start = seoulTime(y, 1, 1);
    n = days ?? Math.round((seoulTime(y + 1, 1, 1).getTime() - start.getTime()) / DAY_MS);
  } else {
    const t = seoulDate(today);
    if (days !== undefined) {
      n = days;
      start = new Date(seoulTime(t.year, t.month, t.day).getTime() - days * DAY_MS);
    } else {
      start = seoulTime(t.year - 1, 1, 1);
      n = Math.round((seoulTime(t.year, 1, 1).getTime() - start.getTime()) / DAY_MS);
    }
  }
  return { start, days: n, end: new Date(start.getTime() + n * DAY_MS) };
}

/** A day's weight within its month: day of week × the date's scenario volume (Black Friday 2.5, …). */
export function dayWeight(dayStart: Date): number {
  const noon = new Date(dayStart.getTime() + 12 * HOUR_MS);
  return (WEEKDAY_WEIGHTS[seoulDate(dayStart).weekday] as number) * scenarioForDate(noon).volume;
}

const monthWeightCache = new Map<number, number>();

function monthWeight(year: number, month: number): number {
  const key = year * 100 + month;
  let total = monthWeightCache.get(key);
  if (total === undefined) {
    total = 0;
    const first = seoulTime(year, month, 1).getTime();
    const next = seoulTime(month === 12 ? year + 1 : year, month === 12 ? 1 : month + 1, 1).getTime();
    for (let t = first; t < next; t += DAY_MS) total += dayWeight(new Date(t));
    monthWeightCache.set(key, total);
  }
  return total;
}

/**
 * Expected orders on a Seoul day: the month's base × scale, shared among the month's days by their
 * weights. Scenarios move volume within a month (Black Friday week gets about twice an ordinary
 * November day) but never change the month's total, so December stays twice January.
 */
export function expectedOrders(dayStart: Date, scale: number): number {
  const { year, month } = seoulDate(dayStart);
  return ((MONTHLY_BASE[month - 1] as number) * scale * dayWeight(dayStart)) / monthWeight(year, month);
}

export interface DayPlan {
  /** 0-based day of the period. */
  index: number;
  start: Date;
  orders: number;
  newUsers: number;
}

/**
 * Whole numbers per day by carrying the fractions forward (no noise, exact totals): a full month
 * gets exactly its base × scale.
 */
export function planDays(period: Period, scale: number, newUsersPerDay: number): DayPlan[] {
  if (!(scale > 0) || !Number.isFinite(scale)) throw new Error(`--scale: expected a positive number, got ${scale}`);
  if (!(newUsersPerDay >= 0) || !Number.isFinite(newUsersPerDay)) throw new Error(`new users per day must be >= 0, got ${newUsersPerDay}`);
  const out: DayPlan[] = [];
  let expected = 0;
  let planned = 0;
  for (let i = 0; i < period.days; i++) {
    const start = new Date(period.start.getTime() + i * DAY_MS);
    expected += expectedOrders(start, scale);
    const orders = Math.round(expected) - planned;
    planned += orders;
    const newUsers = Math.round((i + 1) * newUsersPerDay) - Math.round(i * newUsersPerDay);
    out.push({ index: i, start, orders, newUsers });
  }
  return out;
}

/** Instants at which grades are recomputed: every 7 days from the start, and the end of the period. */
export function gradeCheckpoints(period: Period, everyDays = GRADE_EVERY_DAYS): Date[] {
  const out: Date[] = [];
  for (let d = everyDays; d < period.days; d += everyDays) out.push(new Date(period.start.getTime() + d * DAY_MS));
  out.push(period.end);
  return out;
}

const HOUR_TABLE = new WeightedTable(
  HOURLY_VOLUME.map((_, h) => h),
  (h) => HOURLY_VOLUME[h] as number,
);

/** A day's orders spread over the 24 Seoul hours by the volume curve (a multinomial draw). */
export function drawHourCounts(orders: number, rng: Rng): number[] {
  const counts = new Array<number>(24).fill(0);
  for (let i = 0; i < orders; i++) counts[HOUR_TABLE.draw(rng)]! += 1;
  return counts;
}

/**
 * `n` sorted instants (ms) inside the hour starting at `hourStartMs`, never on the hour itself: a
 * grade checkpoint falls on a midnight and must not see an order that belongs to the next week.
 */
export function drawTimesInHour(hourStartMs: number, n: number, rng: Rng): Float64Array {
  const times = new Float64Array(n);
  for (let i = 0; i < n; i++) times[i] = hourStartMs + 1 + Math.floor(rng.next() * (HOUR_MS - 1));
  return times.sort();
}

// Asia/Seoul has been UTC+9 without daylight saving since 1988, so local time is plain arithmetic:
// no Intl call on the hot path (the producer and the historical year ask this per order).

const HOUR_MS = 3_600_000;
const SEOUL_OFFSET_MS = 9 * HOUR_MS;

/** Hour of day 0..23 in Seoul. */
export function seoulHour(at: Date): number {
  const h = Math.floor(at.getTime() / HOUR_MS) + 9;
  return ((h % 24) + 24) % 24;
}

export interface SeoulDate {
  year: number;
  /** 1..12 */
  month: number;
  /** 1..31 */
  day: number;
  /** 0 = Sunday .. 6 = Saturday */
  weekday: number;
}

export function seoulDate(at: Date): SeoulDate {
  const local = new Date(at.getTime() + SEOUL_OFFSET_MS);
  return {
    year: local.getUTCFullYear(),
    month: local.getUTCMonth() + 1,
    day: local.getUTCDate(),
    weekday: local.getUTCDay(),
  };
}

/** The instant of a Seoul wall-clock time. */
export function seoulTime(year: number, month: number, day: number, hour = 0, minute = 0): Date {
  return new Date(Date.UTC(year, month - 1, day, hour, minute) - SEOUL_OFFSET_MS);
}

/** The start of the Seoul day `raw` names (YYYY-MM-DD); null when it names no day (2025-02-30). */
export function seoulDay(raw: string): Date | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(raw);
  if (!m) return null;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const start = seoulTime(y, mo, d);
  const back = seoulDate(start);
  return back.year === y && back.month === mo && back.day === d ? start : null;
}

/** A command-line day flag: its Seoul day, or an error naming the flag. */
export function seoulDayFlag(flag: string, raw: string): Date {
  const day = seoulDay(raw);
  if (!day) throw new Error(`${flag}: expected a date YYYY-MM-DD, got "${raw}"`);
  return day;
}

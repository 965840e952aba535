// Korean lunar holidays move every year, so the gift-set season needs their solar dates. Table from
// the KASI lunar calendar (Korea computes new moons in KST, which is why 2027/2028 differ from the
// Chinese New Year); outside the table a typical date keeps the mapping deterministic.

/** [year, month, day] of 설날 (Seollal). */
const SEOLLAL: Readonly<Record<number, readonly [number, number]>> = {
  2018: [2, 16],
  2019: [2, 5],
  2020: [1, 25],
  2021: [2, 12],
  2022: [2, 1],
  2023: [1, 22],
  2024: [2, 10],
  2025: [1, 29],
  2026: [2, 17],
  2027: [2, 7],
  2028: [1, 27],
  2029: [2, 13],
  2030: [2, 3],
};

/** [year, month, day] of 추석 (Chuseok). */
const CHUSEOK: Readonly<Record<number, readonly [number, number]>> = {
  2018: [9, 24],
  2019: [9, 13],
  2020: [10, 1],
  2021: [9, 21],
  2022: [9, 10],
  2023: [9, 29],
  2024: [9, 17],
  2025: [10, 6],
  2026: [9, 25],
  2027: [9, 15],
  2028: [10, 3],
  2029: [9, 22],
  2030: [9, 12],
};

const TYPICAL_SEOLLAL: readonly [number, number] = [2, 1];
const TYPICAL_CHUSEOK: readonly [number, number] = [9, 22];

/** Days since the epoch of a calendar date (no time zone: callers pass Seoul dates). */
export function dayNumber(year: number, month: number, day: number): number {
  return Date.UTC(year, month - 1, day) / 86_400_000;
}

export function seollal(year: number): number {
  const [m, d] = SEOLLAL[year] ?? TYPICAL_SEOLLAL;
  return dayNumber(year, m, d);
}

export function chuseok(year: number): number {
  const [m, d] = CHUSEOK[year] ?? TYPICAL_CHUSEOK;
  return dayNumber(year, m, d);
}

/** Black Friday: the day after the fourth Thursday of November (US Thanksgiving). */
export function blackFriday(year: number): number {
  const nov1 = dayNumber(year, 11, 1);
  const weekday = new Date(nov1 * 86_400_000).getUTCDay();
  const firstThursday = nov1 + ((4 - weekday + 7) % 7);
  return firstThursday + 21 + 1;
}

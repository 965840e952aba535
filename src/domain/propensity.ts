// Purchase propensity (docs/design.md, "Buyers"): score = base × time_of_day × marketing_boost × life_event.
import { HOURLY_VOLUME } from "./curves.ts";
import type { Rng } from "./random.ts";
import { seoulHour } from "./seoul-time.ts";
import { ageBandOf, type AgeBand, type Gender, type Grade, type User, type UserStatus } from "./types.ts";

export { seoulHour };

export type ScoreInput = Pick<User, "age" | "gender" | "status" | "marketing_opt_in" | "grade">;

// Hours 0..23 in Seoul time, per age band: the table of docs/design.md, "Buyers".
export const HOURLY_FACTORS: Readonly<Record<AgeBand, readonly number[]>> = {
  "10s": [0.8, 0.5, 0.2, 0.1, 0.1, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.9, 0.8, 0.7, 0.8, 0.9, 1.0, 1.2, 1.4, 1.6, 1.8, 1.5, 1.2],
  "20s": [0.7, 0.4, 0.2, 0.1, 0.1, 0.1, 0.2, 0.4, 0.6, 0.7, 0.8, 1.0, 1.3, 1.1, 0.9, 0.8, 0.9, 1.0, 1.3, 1.5, 1.7, 1.8, 1.5, 1.0],
  "30s": [0.3, 0.1, 0.1, 0.1, 0.1, 0.1, 0.3, 0.5, 0.7, 0.9, 1.0, 1.2, 1.4, 1.2, 1.0, 0.9, 0.8, 0.9, 1.1, 1.5, 1.8, 1.6, 1.0, 0.5],
  "40s": [0.2, 0.1, 0.1, 0.1, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0, 1.2, 1.3, 1.4, 1.2, 1.0, 0.9, 0.8, 0.9, 1.1, 1.4, 1.6, 1.3, 0.8, 0.4],
  "50s+": [0.1, 0.1, 0.1, 0.1, 0.1, 0.3, 0.5, 0.8, 1.0, 1.3, 1.5, 1.6, 1.4, 1.2, 1.0, 0.9, 0.8, 0.7, 0.8, 1.0, 1.1, 0.8, 0.5, 0.2],
};

/**
 * Each age band's factor over a whole day, weighted by when the shop's orders come (the hourly
 * volume curve): the ranking for a simulated day under --rate, whose orders span every hour.
 */
export const WHOLE_DAY_FACTORS: Readonly<Record<AgeBand, number>> = Object.fromEntries(
  Object.entries(HOURLY_FACTORS).map(([band, factors]) => [
    band,
    factors.reduce((s, f, h) => s + f * (HOURLY_VOLUME[h] as number), 0) / HOURLY_VOLUME.reduce((s, v) => s + v, 0),
  ]),
) as Record<AgeBand, number>;

export const AGE_POINTS: Readonly<Record<AgeBand, number>> = { "10s": 12, "20s": 20, "30s": 25, "40s": 22, "50s+": 18 };
export const GENDER_POINTS: Readonly<Record<Gender, number>> = { F: 15, M: 12 };
export const STATUS_POINTS: Readonly<Record<UserStatus, number>> = { ACTIVE: 20, DORMANT: 5 };
export const OPT_IN_POINTS = { yes: 15, no: 8 } as const;
export const GRADE_POINTS: Readonly<Record<Grade, number>> = { VIP: 25, GOLD: 20, SILVER: 15, BRONZE: 10 };

export const MARKETING_BOOST = { probability: 0.2, factor: 1.3 } as const;
/** ×1.0 ordinary, ×1.5 payday-like extra spending, ×3.0 moving or a wedding; weights 85/12/3. */
export const LIFE_EVENTS: readonly { factor: number; weight: number }[] = [
  { factor: 1.0, weight: 85 },
  { factor: 1.5, weight: 12 },
  { factor: 3.0, weight: 3 },
];
const LIFE_EVENT_TOTAL = LIFE_EVENTS.reduce((s, e) => s + e.weight, 0);

/** 0..100; unknown age counts as 30대 (via ageBandOf). */
export function baseScore(u: ScoreInput): number {
  return (
    AGE_POINTS[ageBandOf(u.age)] +
    GENDER_POINTS[u.gender] +
    STATUS_POINTS[u.status] +
    (u.marketing_opt_in ? OPT_IN_POINTS.yes : OPT_IN_POINTS.no) +
    GRADE_POINTS[u.grade]
  );
}

export function timeOfDayFactor(age: number | null, at: Date): number {
  return HOURLY_FACTORS[ageBandOf(age)][seoulHour(at)] as number;
}

export function marketingBoost(optedIn: boolean, rng: Rng): number {
  return optedIn && rng.chance(MARKETING_BOOST.probability) ? MARKETING_BOOST.factor : 1;
}

export function lifeEventFactor(rng: Rng): number {
  let r = rng.next() * LIFE_EVENT_TOTAL;
  for (const e of LIFE_EVENTS) {
    r -= e.weight;
    if (r < 0) return e.factor;
  }
  return (LIFE_EVENTS[LIFE_EVENTS.length - 1] as { factor: number }).factor;
}

/**
 * The score a customer averages over many days (every hour weighed by the volume curve, the
 * marketing boost and the life events at their expected factors): under --rate a cache generation
 * spans simulated years, and a boost drawn once would last them all.
 */
export function expectedScore(u: ScoreInput): number {
  const marketing = u.marketing_opt_in ? 1 + MARKETING_BOOST.probability * (MARKETING_BOOST.factor - 1) : 1;
  return baseScore(u) * WHOLE_DAY_FACTORS[ageBandOf(u.age)] * marketing * EXPECTED_LIFE_EVENT;
}

const EXPECTED_LIFE_EVENT = LIFE_EVENTS.reduce((s, e) => s + e.factor * e.weight, 0) / LIFE_EVENT_TOTAL;

export function propensityScore(u: ScoreInput, at: Date, rng: Rng): number {
  return scoreAtHour(u, seoulHour(at), rng);
}

/** `hour` null: the whole day's factor. */
function scoreAtHour(u: ScoreInput, hour: number | null, rng: Rng): number {
  const band = ageBandOf(u.age);
  const tod = hour === null ? WHOLE_DAY_FACTORS[band] : (HOURLY_FACTORS[band][hour] as number);
  return baseScore(u) * tod * marketingBoost(u.marketing_opt_in, rng) * lifeEventFactor(rng);
}

/**
 * The n highest-scoring users at `at` (or, with `wholeDay`, over the day the shop's orders span),
 * highest first. Ties keep input order so the result depends only on the seed. The hour is
 * computed once for the whole batch.
 */
export function topBuyers<T extends ScoreInput>(
  users: readonly T[],
  at: Date,
  rng: Rng,
  n = 200,
  opts: { wholeDay?: boolean } = {},
): { user: T; score: number }[] {
  const hour = opts.wholeDay ? null : seoulHour(at);
  const scores = new Float64Array(users.length);
  const order = new Uint32Array(users.length);
  for (let i = 0; i < users.length; i++) {
    scores[i] = scoreAtHour(users[i] as T, hour, rng);
    order[i] = i;
  }
  order.sort((a, b) => (scores[b] as number) - (scores[a] as number) || a - b);
  const take = Math.min(Math.max(0, Math.floor(n)), users.length);
  const out = new Array<{ user: T; score: number }>(take);
  for (let k = 0; k < take; k++) {
    const i = order[k] as number;
    out[k] = { user: users[i] as T, score: scores[i] as number };
  }
  return out;
}

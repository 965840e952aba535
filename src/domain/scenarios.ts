// Scenarios (docs/design.md, "Scenarios and the volume curve"): a scenario shifts who buys (gender, age band), what they buy (a multiplier
// per category on top of its order weight) and how much (order volume) for a while.
import { CATEGORIES } from "./categories.ts";
import { blackFriday, chuseok, dayNumber, seollal } from "./holidays.ts";
import { seoulDate, seoulHour } from "./seoul-time.ts";
import { ageBandOf, AGE_BANDS, type AgeBand, type Gender } from "./types.ts";

export interface Scenario {
  id: string;
  /** Korean display name. */
  name: string;
  genderWeights: { M: number; F: number };
  ageBandWeights: Readonly<Record<AgeBand, number>>;
  /** Multiplier per category code on its order weight; a missing code means 1. */
  categoryWeights: Readonly<Record<string, number>>;
  /** Multiplies the hourly order volume: 1 = baseline. */
  volume: number;
  /** Seoul hours this scenario belongs to, for the hour-tied presets. */
  hours?: readonly number[];
}

type Ages = [number, number, number, number, number]; // 10s 20s 30s 40s 50s+

function preset(
  id: string,
  name: string,
  m: number,
  f: number,
  ages: Ages,
  categoryWeights: Record<string, number>,
  volume: number,
  hours?: readonly number[],
): Scenario {
  const ageBandWeights = Object.fromEntries(AGE_BANDS.map((b, i) => [b, ages[i]])) as Record<AgeBand, number>;
  return { id, name, genderWeights: { M: m, F: f }, ageBandWeights, categoryWeights, volume, ...(hours ? { hours } : {}) };
}

export const BASELINE: Scenario = preset("baseline", "기본", 45, 55, [8, 28, 28, 22, 14], {}, 1);

const BASE_AGES: Ages = [8, 28, 28, 22, 14];

// "All categories evenly": cancel each category's order weight so every category is drawn alike.
const meanOrderWeight = CATEGORIES.reduce((s, c) => s + c.orderWeight, 0) / CATEGORIES.length;
const EVEN_WEIGHTS = Object.fromEntries(CATEGORIES.map((c) => [c.code, meanOrderWeight / c.orderWeight]));

const LATE_NIGHT_HOURS = [0, 1, 2, 3, 4, 5] as const;
const DAWN_DELIVERY_HOURS = [21, 22, 23] as const;

export const SCENARIOS: readonly Scenario[] = [
  preset(
    "female_surge",
    "여성 쇼핑 급증",
    25,
    75,
    BASE_AGES,
    { SKINCARE: 1.6, ANTI_AGING: 1.5, FASHION_SS: 1.4, FASHION_FW: 1.2, SUPPLEMENTS: 1.2 },
    1.5,
  ),
  preset("male_it_rush", "남성 IT/게이밍 러시", 75, 25, [15, 40, 28, 12, 5], { IT_GAMING: 4, OFFICE: 1.5, TICKETS: 1.3 }, 1.3),
  preset(
    "black_friday",
    "블랙프라이데이",
    45,
    55,
    [10, 30, 28, 20, 12],
    { APPLIANCES: 3, IT_GAMING: 3, FASHION_FW: 2, FURNITURE: 2, CAMPING: 1.5, GOLF: 1.5, ANTI_AGING: 1.5 },
    2.5,
  ),
  preset(
    "holiday_gifts",
    "명절 선물세트 (설/추석)",
    45,
    55,
    [3, 18, 30, 28, 21],
    { HEALTH_FOOD: 3, MEAT: 2.5, FRESH: 2, SUPPLEMENTS: 2, ANTI_AGING: 1.3 },
    1.8,
  ),
  preset("summer_fashion_beauty", "여름 패션/뷰티", 35, 65, [12, 34, 28, 16, 10], { FASHION_SS: 2.5, SKINCARE: 1.6, FASHION_FW: 0.3 }, 1.2),
  preset("winter_padding", "겨울 패딩", 50, 50, [8, 26, 28, 24, 14], { FASHION_FW: 3, FASHION_SS: 0.3 }, 1.2),
  preset("beauty_viral", "뷰티 인플루언서 바이럴", 15, 85, [18, 42, 25, 10, 5], { SKINCARE: 3, ANTI_AGING: 2 }, 1.6),
  preset(
    "mz_trend",
    "MZ 트렌드 쇼핑",
    50,
    50,
    [20, 45, 25, 7, 3],
    { FASHION_SS: 1.8, TICKETS: 2, IT_GAMING: 1.5, SKINCARE: 1.5, LODGING: 1.3 },
    1.4,
  ),
  preset("senior_health_food", "5060 건강식품", 45, 55, [1, 4, 15, 30, 50], { HEALTH_FOOD: 3.5, SUPPLEMENTS: 2.5, FRESH: 1.3 }, 1.1),
  preset("camping_season", "캠핑 시즌", 60, 40, [4, 26, 36, 24, 10], { CAMPING: 4, MEAT: 1.5, FRESH: 1.2, LODGING: 1.2 }, 1.2),
  preset("new_semester", "신학기 (가구/IT)", 50, 50, [20, 30, 30, 15, 5], { OFFICE: 3, IT_GAMING: 2.5, FURNITURE: 2.5 }, 1.2),
  preset(
    "wedding_season",
    "웨딩 시즌",
    45,
    55,
    [2, 40, 40, 12, 6],
    { APPLIANCES: 3, FURNITURE: 3, LODGING: 2, FLIGHTS: 2, ANTI_AGING: 1.3 },
    1.2,
  ),
  preset("new_year_diet", "새해 다이어트", 35, 65, [8, 34, 30, 18, 10], { SUPPLEMENTS: 2.5, HEALTH_FOOD: 2, FRESH: 1.5, MEAT: 1.2 }, 1.1),
  preset("parenting_bulk", "육아 대량구매", 30, 70, [0, 12, 58, 25, 5], { PAPER: 2.5, DETERGENT: 2, FRESH: 1.3 }, 1.2),
  preset("golf_season", "골프 시즌", 70, 30, [1, 10, 28, 34, 27], { GOLF: 5, FASHION_SS: 1.2 }, 1.1),
  preset("travel_peak", "여행 성수기", 45, 55, [6, 34, 32, 18, 10], { FLIGHTS: 3, LODGING: 3, TICKETS: 1.8, CAMPING: 1.3 }, 1.3),
  preset(
    "dawn_delivery_groceries",
    "새벽배송 장보기",
    35,
    65,
    [3, 25, 38, 24, 10],
    { FRESH: 3, MEAT: 2, DETERGENT: 1.3, PAPER: 1.3 },
    1.2,
    DAWN_DELIVERY_HOURS,
  ),
  preset("appliance_sale", "가전 빅세일", 50, 50, [3, 22, 32, 27, 16], { APPLIANCES: 5, IT_GAMING: 1.5, FURNITURE: 1.3 }, 1.5),
  // Small baskets: cheap everyday categories up, big-ticket ones down.
  preset(
    "late_night_small",
    "평일 심야 소액 주문",
    50,
    50,
    [18, 42, 24, 10, 6],
    {
      DETERGENT: 1.5,
      PAPER: 1.5,
      SKINCARE: 1.3,
      SUPPLEMENTS: 1.2,
      TICKETS: 1.2,
      APPLIANCES: 0.2,
      FURNITURE: 0.2,
      GOLF: 0.3,
      CAMPING: 0.4,
      FLIGHTS: 0.4,
      LODGING: 0.4,
      IT_GAMING: 0.5,
      FASHION_FW: 0.5,
      ANTI_AGING: 0.6,
      HEALTH_FOOD: 0.6,
      OFFICE: 0.6,
    },
    1,
    LATE_NIGHT_HOURS,
  ),
  preset("all_even", "전 카테고리 균등 (대량)", 45, 55, BASE_AGES, EVEN_WEIGHTS, 2),
];

const BY_ID: ReadonlyMap<string, Scenario> = new Map([BASELINE, ...SCENARIOS].map((s) => [s.id, s]));

export function scenarioById(id: string): Scenario {
  const s = BY_ID.get(id);
  if (!s) throw new Error(`unknown scenario "${id}"; valid ids: ${[...BY_ID.keys()].join(", ")}`);
  return s;
}

export function categoryWeight(s: Scenario, code: string): number {
  return s.categoryWeights[code] ?? 1;
}

/** The hour-tied preset for a Seoul hour: 00–05 late-night small orders, 21–23 dawn-delivery groceries. */
export function scenarioForHour(hour: number): Scenario | undefined {
  return SCENARIOS.find((s) => s.hours?.includes(hour));
}

// Seasons by Seoul month/day (mmdd, inclusive), checked after the dated events below.
const SEASONS: readonly { from: number; to: number; id: string }[] = [
  { from: 101, to: 114, id: "new_year_diet" },
  { from: 115, to: 131, id: "winter_padding" },
  { from: 215, to: 310, id: "new_semester" },
  { from: 401, to: 420, id: "camping_season" },
  { from: 421, to: 504, id: "golf_season" },
  { from: 505, to: 531, id: "wedding_season" },
  { from: 601, to: 610, id: "appliance_sale" }, // air conditioners before the heat
  { from: 611, to: 719, id: "summer_fashion_beauty" },
  { from: 720, to: 815, id: "travel_peak" }, // school holidays and summer leave
  { from: 816, to: 831, id: "summer_fashion_beauty" },
  { from: 901, to: 915, id: "golf_season" },
  { from: 916, to: 1010, id: "camping_season" },
  { from: 1011, to: 1031, id: "wedding_season" },
  { from: 1101, to: 1231, id: "winter_padding" },
];

const GIFT_WINDOW_DAYS = 14; // gift sets sell in the two weeks before the holiday, not on it

/**
 * The calendar's scenario for a Seoul date: Black Friday week (Mon before to Cyber Monday), gift sets
 * in the 14 days before Seollal and Chuseok, then the seasons; BASELINE on uncovered dates.
 */
export function scenarioForDate(at: Date): Scenario {
  const { year, month, day } = seoulDate(at);
  const today = dayNumber(year, month, day);
  const bf = blackFriday(year);
  if (today >= bf - 4 && today <= bf + 3) return scenarioById("black_friday");
  for (const holiday of [seollal(year), chuseok(year), seollal(year + 1)]) {
    if (today >= holiday - GIFT_WINDOW_DAYS && today < holiday) return scenarioById("holiday_gifts");
  }
  const mmdd = month * 100 + day;
  const season = SEASONS.find((s) => mmdd >= s.from && mmdd <= s.to);
  return season ? scenarioById(season.id) : BASELINE;
}

const DATED_EVENTS = new Set(["black_friday", "holiday_gifts"]);

/**
 * The scenario in force at an instant, for the historical generator: dated sales win, then the
 * hour-tied presets (late-night small orders only on weekday nights), then the season.
 */
export function scenarioAt(at: Date): Scenario {
  const byDate = scenarioForDate(at);
  if (DATED_EVENTS.has(byDate.id)) return byDate;
  const hour = seoulHour(at);
  const byHour = scenarioForHour(hour);
  if (byHour?.id === "late_night_small") {
    const { weekday } = seoulDate(at);
    return weekday >= 1 && weekday <= 5 ? byHour : byDate;
  }
  return byHour ?? byDate;
}

function share<K extends string>(weights: Readonly<Record<K, number>>, key: K): number {
  let total = 0;
  for (const k in weights) total += weights[k];
  return total > 0 ? weights[key] / total : 0;
}

/**
 * How much more (or less) likely this user is to buy under the scenario than under the baseline:
 * the ratio of the user's gender share times age-band share. 1 for the baseline itself.
 */
export function demographicFactor(s: Scenario, u: { gender: Gender; age: number | null }): number {
  const band = ageBandOf(u.age);
  const gender = share(s.genderWeights, u.gender) / share(BASELINE.genderWeights, u.gender);
  const age = share(s.ageBandWeights, band) / share(BASELINE.ageBandWeights, band);
  return gender * age;
}

// Fake users (docs/design.md, "Catalogue and orders"): the initial seed and the user-seeder both come through here.
// The ko entry point loads one locale (~40 ms) instead of all of them (~300 ms at start-up).
import { faker } from "@faker-js/faker/locale/ko";
import { newId } from "./ids.ts";
import { drawCommonSurname, romanize, romanizeSurname } from "./korean.ts";
import { type Rng, WeightedTable } from "./random.ts";
import { DISTRICTS, REGIONS } from "./regions.ts";
import { seoulDate } from "./seoul-time.ts";
import type { Gender, User } from "./types.ts";

export { REGIONS };

const DAY_MS = 86_400_000;
const SIGN_UP_SPAN_MS = 5 * 365.25 * DAY_MS;

const AGE_RANGES: readonly (readonly [number, number])[] = [
  [20, 29],
  [30, 39],
  [40, 49],
  [50, 60],
];
const AGE_RANGE_WEIGHTS: readonly number[] = [30, 30, 25, 15];
export const DORMANT_SHARE = 0.2;
export const OPT_IN_SHARE = 0.5;

const EMAIL_DOMAINS = new WeightedTable(
  [
    ["naver.com", 45],
    ["gmail.com", 25],
    ["daum.net", 12],
    ["kakao.com", 10],
    ["icloud.com", 8],
  ] as const,
  ([, w]) => w,
);
const HANDLE_WORDS = [
  "happy",
  "sunny",
  "blue",
  "lucky",
  "sweet",
  "cool",
  "star",
  "moon",
  "dream",
  "mint",
  "coco",
  "lovely",
  "daily",
  "hello",
  "jelly",
  "peach",
] as const;

const regionTable = new WeightedTable(REGIONS, (r) => r.weight);

export interface GenerateUsersOptions {
  /** Sign-up time for every user (the live user-seeder: "now"); default spread over 5 years before now. */
  createdAt?: Date;
  /** Each user's own sign-up time in ms (one per user, wins over createdAt): the id is drawn for it. */
  createdTimes?: ArrayLike<number>;
  /** E-mails already in use; new ones are added to it. Within one call e-mails are always unique. */
  takenEmails?: Set<string>;
}

export function generateUsers(rng: Rng, count: number, now: Date, opts: GenerateUsersOptions = {}): User[] {
  const taken = opts.takenEmails ?? new Set<string>();
  const fixedCreatedMs = opts.createdAt?.getTime();
  // Re-seeded from our stream on every call, so faker's draws are as reproducible as ours. The
  // loop below is synchronous: nothing else can draw from the shared instance meanwhile.
  faker.seed(rng.nextUint32());
  const nowMs = now.getTime();
  const { year, month, day } = seoulDate(now);
  const yearElapsed = (Date.UTC(year, month - 1, day) - Date.UTC(year, 0, 1)) / (365 * DAY_MS);
  const users = new Array<User>(count);
  for (let i = 0; i < count; i++) {
    const createdMs = opts.createdTimes?.[i] ?? fixedCreatedMs ?? Math.floor(nowMs - rng.next() * SIGN_UP_SPAN_MS);
    const gender: Gender = rng.chance(0.5) ? "F" : "M";
    const [lo, hi] = AGE_RANGES[rng.weightedIndex(AGE_RANGE_WEIGHTS)]!;
    const age = rng.int(lo, hi);
    // Birthdays fall evenly over the year: if it has not come yet this year, born a year earlier.
    const birthYear = year - age - (rng.next() < yearElapsed ? 0 : 1);
    const surname = drawCommonSurname(rng) ?? faker.person.lastName();
    const given = faker.person.firstName(gender === "F" ? "female" : "male");
    const region = regionTable.draw(rng).name;
    const dormant = rng.chance(DORMANT_SHARE);
    const createdAt = new Date(createdMs);
    users[i] = {
      id: newId("U_", rng, createdMs),
      name: surname + given,
      gender,
      age,
      birth_year: birthYear,
      address: address(region, rng),
      region,
      email: email(surname, given, birthYear, rng, taken),
      grade: "BRONZE",
      status: dormant ? "DORMANT" : "ACTIVE",
      marketing_opt_in: rng.chance(OPT_IN_SHARE),
      // Dormant: never logged in since sign-up. Active: a recent login, mostly within weeks.
      last_login_at: dormant ? null : lastLogin(createdMs, nowMs, rng),
      created_at: createdAt,
      last_ordered_at: null,
    };
  }
  return users;
}

function lastLogin(createdMs: number, nowMs: number, rng: Rng): Date {
  const span = Math.max(0, Math.min(nowMs - createdMs, 90 * DAY_MS));
  return new Date(Math.floor(nowMs - span * rng.next() ** 3));
}

function address(region: string, rng: Rng): string {
  const district = rng.pick(DISTRICTS[region] ?? [region]);
  const road = `${district} ${faker.location.street()} ${rng.int(1, 350)}`;
  // Most Koreans live in apartments: 동/호 detail on about half the addresses.
  return rng.chance(0.55) ? `${road}, ${rng.int(101, 125)}동 ${rng.int(1, 25)}0${rng.int(1, 8)}호` : road;
}

function email(surname: string, given: string, birthYear: number, rng: Rng, taken: Set<string>): string {
  const sur = romanizeSurname(surname);
  const first = romanize(given);
  const yy = String(birthYear % 100).padStart(2, "0");
  let local: string;
  switch (rng.int(0, 5)) {
    case 0:
      local = `${first}${sur}${yy}`;
      break;
    case 1:
      local = `${sur}${first}${rng.int(1, 999)}`;
      break;
    case 2:
      local = `${first}.${sur}`;
      break;
    case 3:
      local = `${sur}_${first}${yy}`;
      break;
    case 4:
      local = `${rng.pick(HANDLE_WORDS)}${first}${rng.int(0, 99)}`;
      break;
    default:
      local = `${first}${rng.int(100, 9999)}`;
  }
  const domain = EMAIL_DOMAINS.draw(rng)[0];
  let candidate = `${local}@${domain}`;
  for (let n = 2; taken.has(candidate); n++) candidate = `${local}${n}@${domain}`;
  taken.add(candidate);
  return candidate;
}

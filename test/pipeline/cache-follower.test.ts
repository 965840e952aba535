import { afterAll, beforeAll, expect, test } from "bun:test";
import { connectRedis } from "../../src/cache/client.ts";
import { cacheKeys } from "../../src/cache/keys.ts";
import { ScenarioSwitch } from "../../src/cache/scenario-switch.ts";
import { type CachedProduct, type CachedUser, reloadCache } from "../../src/cache/reload.ts";
import { insertProducts, insertUsers } from "../../src/db/writers.ts";
import { OrderGenerator } from "../../src/domain/order-generator.ts";
import { Rng } from "../../src/domain/random.ts";
import { scenarioById } from "../../src/domain/scenarios.ts";
import type { Logger } from "../../src/log.ts";
import { CacheFollower } from "../../src/pipeline/cache-follower.ts";
import { createTestDatabase, type TestDatabase, uniqueSuffix } from "../../support/db.ts";
import { product, user } from "../support/fixtures.ts";

// The producer's cache follower against a real Redis filled by the real cache reload: it loads a
// generation once, refreshes only when the cache or the scenario moves, follows the live page's
// pin (and reports a bad one once), and keeps its snapshot when Redis is emptied.

let db: TestDatabase;
const redis = connectRedis(process.env.REDIS_URL ?? "redis://127.0.0.1:6379");
const prefix = `test:${uniqueSuffix()}:`;
// written raw where a test plays another writer (a bad id); the follower reads it through ScenarioSwitch
const pinKey = new ScenarioSwitch(redis, prefix).key;
const keys = cacheKeys(prefix);
const NOON_SEOUL = new Date("2026-03-10T03:00:00Z"); // 12:00 in Seoul: no hour-tied preset
const lines: string[] = [];
const log: Logger = { info: (m) => lines.push(`info ${m}`), warn: (m) => lines.push(`warn ${m}`), error: (m) => lines.push(`error ${m}`) };
const count = (text: string) => lines.filter((l) => l.includes(text)).length;

beforeAll(async () => {
  db = await createTestDatabase("follower");
  await insertUsers(
    db.sql,
    Array.from({ length: 50 }, (_, i) => user(`U_f${i}`)),
  );
  await insertProducts(
    db.sql,
    Array.from({ length: 30 }, (_, i) => product(`P_f${i}`)),
  );
  await reloadCache(db.sql, redis, keys);
});
afterAll(async () => {
  await redis.del(keys.users, keys.products, keys.usersMeta, keys.productsMeta, keys.stats, pinKey);
  redis.disconnect();
  await db.drop();
});

test("follows generations, the pinned scenario and an emptied cache", async () => {
  const generator = new OrderGenerator<CachedUser, CachedProduct>(new Rng("follower"), 20);
  const start = scenarioById("camping_season");
  const follower = new CacheFollower(redis, prefix, generator, log, start);

  await follower.sync(NOON_SEOUL);
  expect(generator.ready).toBe(true);
  expect(generator.top).toHaveLength(20);
  expect(generator.scenario.id).toBe("camping_season"); // the --scenario it started with
  expect(count("cache generation")).toBe(1);
  await follower.sync(NOON_SEOUL);
  expect(count("cache generation")).toBe(1); // nothing moved: no refresh

  // a reload is a new generation
  await Bun.sleep(5); // the generation is the reload's timestamp
  await reloadCache(db.sql, redis, keys);
  await follower.sync(NOON_SEOUL);
  expect(count("cache generation")).toBe(2);

  // the live page pins a scenario; a pin naming nothing is reported once and changes nothing
  await redis.set(pinKey, "black_friday");
  await follower.sync(NOON_SEOUL);
  expect(generator.scenario.id).toBe("black_friday");
  await redis.set(pinKey, "no_such_scenario");
  for (let i = 0; i < 3; i++) await follower.sync(NOON_SEOUL);
  expect(generator.scenario.id).toBe("black_friday");
  expect(count("ignoring scenario switch")).toBe(1);
  await redis.del(pinKey);
  await follower.sync(NOON_SEOUL);
  expect(generator.scenario.id).toBe("camping_season"); // back to the start scenario

  // Redis emptied (a restart): the last snapshot stays, orders go on, one warning
  await redis.del(keys.users, keys.products, keys.usersMeta, keys.productsMeta);
  for (let i = 0; i < 3; i++) await follower.sync(NOON_SEOUL);
  expect(count("keeping the previous snapshot")).toBe(1);
  expect(generator.ready).toBe(true);
  expect(generator.next(NOON_SEOUL).user_id).toStartWith("U_f");
  await reloadCache(db.sql, redis, keys);
  await follower.sync(NOON_SEOUL);
  expect(count("cache generation")).toBe(5);
  expect(lines.filter((l) => l.startsWith("error"))).toEqual([]);
});

test("without a start scenario the hour decides: late night in Seoul is the late-night preset", async () => {
  const generator = new OrderGenerator<CachedUser, CachedProduct>(new Rng("follower-hour"), 20);
  const follower = new CacheFollower(redis, prefix, generator, log);
  expect(follower.scenarioAt(NOON_SEOUL).id).toBe("baseline");
  await follower.sync(new Date("2026-03-10T17:00:00Z")); // 02:00 in Seoul
  expect(generator.scenario.id).toBe("late_night_small");
});

test("under --rate the wall clock's hour ties no preset: a simulated day spans every hour", async () => {
  const generator = new OrderGenerator<CachedUser, CachedProduct>(new Rng("follower-rate"), 20, { ordersPerSecond: 3000 });
  const follower = new CacheFollower(redis, prefix, generator, log, undefined, false);
  const lateNight = new Date("2026-03-10T17:00:00Z"); // 02:00 in Seoul
  expect(follower.scenarioAt(lateNight).id).toBe("baseline");
  const drawn = count("every order drawn from all");
  await follower.sync(lateNight);
  // the generator took the cache (it says so, drawing from everyone) under the baseline
  expect(generator.ready).toBe(true);
  expect(count("every order drawn from all")).toBe(drawn + 1);
  expect(lines.at(-1)).toContain("scenario baseline");
  // a scenario asked for still holds
  const pinned = new CacheFollower(redis, prefix, generator, log, scenarioById("late_night_small"), false);
  expect(pinned.scenarioAt(NOON_SEOUL).id).toBe("late_night_small");
  await pinned.sync(NOON_SEOUL);
  expect(generator.scenario.id).toBe("late_night_small");
});

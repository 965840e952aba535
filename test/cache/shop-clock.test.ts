import { afterAll, expect, test } from "bun:test";
import { connectRedis } from "../../src/cache/client.ts";
import { gradeWindowOrders, ShopClock, ShopClockFollower } from "../../src/cache/shop-clock.ts";
import { uniqueSuffix } from "../../support/db.ts";
import { config } from "../support/kafka.ts";

// The shop's clock in Redis and how the grade-updater follows it: an earlier session's clock is not
// this one's, a clock taken stays taken when the run ends, and Redis away keeps the last one.

const redis = connectRedis(config.redisUrl);
const prefix = `test:clock:${uniqueSuffix()}:`;
afterAll(async () => {
  await redis.del(`${prefix}control:shop-clock`);
  redis.disconnect();
});

test("six simulated months are 6 × 30.44 simulated days of orders", () => {
  expect(gradeWindowOrders({ dayMs: 35, dayOrders: 104, at: 1 })).toBeCloseTo(6 * 30.4375 * 104, 6);
});

test("a stored clock that is not one reads as the wall clock", async () => {
  const clock = new ShopClock(redis, prefix);
  for (const bad of ["nope", "{}", '{"dayMs":-1,"dayOrders":104,"at":5}', '{"dayMs":35,"dayOrders":104}']) {
    await redis.set(clock.key, bad);
    expect(await clock.read()).toBeNull();
  }
});

test("an earlier session's clock is ignored; a clock taken stays taken when it stops; Redis away keeps the last", async () => {
  const clock = new ShopClock(redis, prefix);
  const errors: unknown[] = [];
  const started = Date.now();
  const follower = new ShopClockFollower(clock, (err) => errors.push(err), started, 10_000);
  await clock.set({ dayMs: 35, dayOrders: 104, at: started - 60_000 }); // a --rate run that ended a minute before
  expect(await follower.current()).toBeNull();
  const live = { dayMs: 35, dayOrders: 104, at: started + 1000 };
  await clock.set(live);
  expect(await follower.current()).toEqual(live);
  expect(await follower.current()).toEqual(live); // the run ended: the clock stands still, still taken
  await clock.clear(); // a producer on the wall clock
  expect(await follower.current()).toBeNull();

  // Redis goes away under a follower that took a clock: it keeps that one, and says why
  await clock.set(live);
  const own = connectRedis(config.redisUrl);
  const cut = new ShopClockFollower(new ShopClock(own, prefix), (err) => errors.push(err), started, 10_000, 500);
  expect(await cut.current()).toEqual(live);
  own.disconnect();
  expect(await cut.current()).toEqual(live);
  expect(errors).toHaveLength(1);
});

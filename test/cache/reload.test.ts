import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { connectRedis } from "../../src/cache/client.ts";
import { cacheKeys } from "../../src/cache/keys.ts";
import { reloadCache } from "../../src/cache/reload.ts";
import { readSnapshot } from "../../src/cache/snapshot.ts";
import { insertProducts, insertUsers } from "../../src/db/writers.ts";
import { APPETITE_SQL, appetiteOf, dueMs } from "../../src/domain/appetite.ts";
import { createTestDatabase, uniqueSuffix, type TestDatabase } from "../../support/db.ts";
import { product, user } from "../support/fixtures.ts";

let db: TestDatabase;
const redis = connectRedis(process.env.REDIS_URL ?? "redis://127.0.0.1:6379");
const keys = cacheKeys(`test:${uniqueSuffix()}:`);
const T0 = Date.parse("2024-01-01T00:00:00Z");
const MIN = 60_000;

beforeAll(async () => {
  db = await createTestDatabase("cache");
  // 700 buyers with distinct last orders, 800 never-bought with distinct sign-ups
  await insertUsers(
    db.sql,
    Array.from({ length: 1500 }, (_, i) =>
      user(`U_c${String(i).padStart(4, "0")}`, {
        created_at: new Date(T0 + ((i * 7919) % 1500) * MIN),
        last_ordered_at: i < 700 ? new Date(T0 + 10_000 * MIN + ((i * 104_729) % 700) * MIN) : null,
      }),
    ),
  );
  await insertProducts(
    db.sql,
    Array.from({ length: 1200 }, (_, i) =>
      product(`P_c${String(i).padStart(4, "0")}`, {
        created_at: new Date(T0 + ((i * 7919) % 1200) * MIN),
        order_count: i < 800 ? 1 + ((i * 31) % 500) : 0,
      }),
    ),
  );
});
afterAll(async () => {
  await redis.del(keys.users, keys.products, keys.usersMeta, keys.productsMeta, keys.stats);
  redis.disconnect();
  await db.drop();
});

/** The split worked out here, in TypeScript: buyers by when they are due again (last order + gap / appetite), then the newest never-bought. */
async function expectedUsers(buyers: number, fresh: number): Promise<string[]> {
  const all = await db.sql`select id, last_ordered_at from users where last_ordered_at is not null`;
  const due = all
    .map((r) => ({ id: r.id as string, at: dueMs((r.last_ordered_at as Date).getTime(), appetiteOf(r.id as string)) }))
    .sort((a, b) => a.at - b.at || (a.id < b.id ? -1 : 1));
  const f = await db.sql`select id from users where last_ordered_at is null order by created_at desc, id limit ${fresh}`;
  return [...due.slice(0, buyers).map((d) => d.id), ...f.map((r) => r.id as string)].sort();
}

describe("split load", () => {
  test("PostgreSQL's appetite is appetiteOf's, id for id", async () => {
    const rows = await db.sql`select id, ${db.sql.unsafe(APPETITE_SQL)} as appetite from users`;
    expect(rows).toHaveLength(1500);
    for (const r of rows) expect([r.id, r.appetite / appetiteOf(r.id)]).toEqual([r.id, expect.closeTo(1, 12)]);
  });

  test("1,000 users = 600 longest past due (last order + gap / appetite) + 400 newest never-bought, as worked out in TypeScript", async () => {
    const r = await reloadCache(db.sql, redis, keys);
    expect(r.users).toBe(1000);
    const cached = Object.keys(await redis.hgetall(keys.users)).sort();
    expect(cached).toEqual(await expectedUsers(600, 400));
  });

  test("1,000 products = 700 by order_count + 300 newest, no duplicates", async () => {
    const cached = Object.keys(await redis.hgetall(keys.products)).sort();
    const popular = (await db.sql`select id from products order by order_count desc, id limit 700`).map((r) => r.id);
    const fresh = (await db.sql`select id from products where id <> all(${popular}) order by created_at desc, id limit 300`).map(
      (r) => r.id,
    );
    expect(cached).toHaveLength(1000);
    expect(new Set(cached).size).toBe(1000);
    expect(cached).toEqual([...popular, ...fresh].sort());
  });

  test("a short pool is filled by the other: 100 buyers → 100 + 900 newest", async () => {
    await db.sql`update users set last_ordered_at = null where id >= 'U_c0100' and id < 'U_c0700'`;
    await reloadCache(db.sql, redis, keys);
    expect(Object.keys(await redis.hgetall(keys.users)).sort()).toEqual(await expectedUsers(100, 900));
  });

  test("meta keys hold count and updated_at; reloads are counted", async () => {
    const before = Number(await redis.hget(keys.stats, "reloads"));
    await reloadCache(db.sql, redis, keys);
    expect(Number(await redis.hget(keys.stats, "reloads"))).toBe(before + 1);
    const meta = await redis.hgetall(keys.usersMeta);
    expect(Number(meta.count)).toBe(1000);
    expect(Date.now() - Date.parse(meta.updated_at!)).toBeLessThan(10_000);
    expect(Number((await redis.hgetall(keys.productsMeta)).count)).toBe(1000);
  });
});

test("a reader hammering the cache during reloads never sees a partial hash", async () => {
  let stop = false;
  const sizes: number[] = [];
  const reader = (async () => {
    const r = connectRedis(process.env.REDIS_URL ?? "redis://127.0.0.1:6379");
    while (!stop) {
      const snap = await readSnapshot(r, keys);
      sizes.push(snap.users.length, snap.products.length);
    }
    r.disconnect();
  })();
  for (let i = 0; i < 15; i++) await reloadCache(db.sql, redis, keys);
  stop = true;
  await reader;
  expect(sizes.length).toBeGreaterThan(20);
  expect(sizes.every((n) => n === 1000)).toBe(true);
});

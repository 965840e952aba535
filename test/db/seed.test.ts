import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { seedCatalogue } from "../../src/db/seed.ts";
import { CATEGORIES } from "../../src/domain/categories.ts";
import { createTestDatabase, type TestDatabase } from "../../support/db.ts";

const NOW = new Date("2026-01-15T03:00:00Z");
const OPTS = { seed: "seed-test", users: 10_000, products: 20_000, now: NOW };

let a: TestDatabase;
let b: TestDatabase;
beforeAll(async () => {
  [a, b] = await Promise.all([createTestDatabase("seed_a"), createTestDatabase("seed_b")]);
});
afterAll(async () => {
  await Promise.all([a.drop(), b.drop()]);
});

describe("initial seeder", () => {
  test("creates 10,000 users and 20,000 products", async () => {
    const r = await seedCatalogue(a.sql, OPTS);
    expect(r.skipped).toBe(false);
    const [counts] = await a.sql`select (select count(*) from users)::int as users, (select count(*) from products)::int as products`;
    expect(counts).toEqual({ users: 10_000, products: 20_000 });
  });

  test("is idempotent: a second run adds nothing", async () => {
    const r = await seedCatalogue(a.sql, OPTS);
    expect(r.skipped).toBe(true);
    const [counts] = await a.sql`select (select count(*) from users)::int as users, (select count(*) from products)::int as products`;
    expect(counts).toEqual({ users: 10_000, products: 20_000 });
  });

  test("spreads the catalogue evenly: each of the 19 categories within ±1 pp of 1/19", async () => {
    const rows = await a.sql<{ category: string; n: number }[]>`select category, count(*)::int as n from products group by category`;
    expect(rows.map((r) => r.category).sort()).toEqual(CATEGORIES.map((c) => c.code).sort());
    for (const r of rows) expect(Math.abs(r.n / 20_000 - 1 / 19)).toBeLessThanOrEqual(0.01);
  });

  test("users as seeded: everyone BRONZE, no purchase history, 20 % dormant, shares of age bands", async () => {
    const [u] = await a.sql`
      select count(*) filter (where grade <> 'BRONZE')::int as not_bronze,
             count(*) filter (where last_ordered_at is not null)::int as bought,
             avg((status = 'DORMANT')::int)::float as dormant,
             avg((age between 20 and 29)::int)::float as twenties,
             avg((age between 50 and 60)::int)::float as fifties,
             min(created_at) as first, max(created_at) as last
      from users`;
    expect(u!.not_bronze).toBe(0);
    expect(u!.bought).toBe(0);
    expect(Math.abs(u!.dormant - 0.2)).toBeLessThan(0.02);
    expect(Math.abs(u!.twenties - 0.3)).toBeLessThan(0.02);
    expect(Math.abs(u!.fifties - 0.15)).toBeLessThan(0.02);
    expect((u!.last as Date).getTime()).toBeLessThanOrEqual(NOW.getTime());
    expect(NOW.getTime() - (u!.first as Date).getTime()).toBeGreaterThan(4 * 365 * 86_400_000);
  });

  test("the same seed gives byte-identical rows (all but the row-write time updated_at)", async () => {
    await seedCatalogue(b.sql, OPTS);
    const digest = async (db: TestDatabase, table: string) =>
      await db.sql
        .unsafe(
          `select md5(string_agg((to_jsonb(t) - 'updated_at')::text, '|' order by id)) as h, count(*)::int as n from (select * from ${table}) t`,
        )
        .then((r) => r[0]);
    for (const table of ["users", "products"]) {
      const [ha, hb] = await Promise.all([digest(a, table), digest(b, table)]);
      expect(hb).toEqual(ha);
    }
  });
});

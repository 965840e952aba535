import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { migrate } from "../../src/db/migrate.ts";
import { insertOrders, insertProducts, insertUsers } from "../../src/db/writers.ts";
import { createTestDatabase, type TestDatabase } from "../../support/db.ts";
import { order, product, user } from "../support/fixtures.ts";

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase("writers");
});
afterAll(async () => {
  await db.drop();
});

describe("migrations", () => {
  test("a second run applies nothing and the tables exist", async () => {
    expect(await migrate(db.sql)).toEqual([]);
    const tables = await db.sql<
      { table_name: string }[]
    >`select table_name from information_schema.tables where table_schema = 'public' order by 1`;
    expect(tables.map((t) => t.table_name)).toEqual(
      expect.arrayContaining(["users", "products", "orders", "grade_history", "schema_migrations"]),
    );
  });
});

describe("batched writers", () => {
  test("users and products insert once; a redelivery changes nothing", async () => {
    const users = [user("U_w1"), user("U_w2", { gender: "M", name: '김\'철수\t"테스트"' })];
    expect(await insertUsers(db.sql, users)).toEqual({ inserted: 2, conflicts: [] });
    expect(await insertUsers(db.sql, users)).toEqual({ inserted: 0, conflicts: [] });
    const [row] = await db.sql`select name, gender from users where id = 'U_w2'`;
    expect(row).toEqual({ name: '김\'철수\t"테스트"', gender: "M" });
    expect(await insertProducts(db.sql, [product("P_w1"), product("P_w2")])).toEqual({ inserted: 2, conflicts: [] });
    expect(await insertProducts(db.sql, [product("P_w1")])).toEqual({ inserted: 0, conflicts: [] });
  });

  test("a reused id with other content is reported with the columns that differ, and not written", async () => {
    const taken = user("U_w1", { email: "someone.else@daum.net", name: "다른사람" });
    expect(await insertUsers(db.sql, [taken, user("U_w3")])).toEqual({
      inserted: 1,
      conflicts: [{ id: "U_w1", columns: ["name", "email"] }],
    });
    const [row] = await db.sql`select name, email from users where id = 'U_w1'`;
    expect(row).toEqual({ name: "사용자U_w1", email: "u_w1@naver.com" });
    // columns the pipeline advances itself (grade, last_ordered_at) are not identity
    expect(await insertUsers(db.sql, [user("U_w1", { grade: "VIP", last_ordered_at: new Date() })])).toEqual({
      inserted: 0,
      conflicts: [],
    });
    expect((await insertProducts(db.sql, [product("P_w1", { price: 1 })])).conflicts).toEqual([{ id: "P_w1", columns: ["price"] }]);
  });

  test("orders advance last_ordered_at and order_count once, even when redelivered", async () => {
    const orders = [
      order("O_w1", "U_w1", "P_w1", { created_at: new Date("2025-06-01T00:00:00Z") }),
      order("O_w2", "U_w1", "P_w1", { created_at: new Date("2025-06-03T00:00:00Z"), quantity: 5 }),
      order("O_w3", "U_w2", "P_w2", { created_at: new Date("2025-06-02T00:00:00Z") }),
    ];
    expect(await insertOrders(db.sql, orders)).toEqual({ inserted: 3, missingRefs: [], conflicts: [] });
    const check = async () => ({
      users: await db.sql`select id, last_ordered_at from users where id in ('U_w1','U_w2') order by id`,
      products: await db.sql`select id, order_count from products where id in ('P_w1','P_w2') order by id`,
      orders: (await db.sql`select count(*)::int as n from orders`)[0]?.n,
    });
    const first = await check();
    expect(first.users.map((u) => [u.id, (u.last_ordered_at as Date).toISOString()])).toEqual([
      ["U_w1", "2025-06-03T00:00:00.000Z"],
      ["U_w2", "2025-06-02T00:00:00.000Z"],
    ]);
    // quantity-independent: two orders of P_w1 count 2, not 6
    expect(first.products.map((p) => [p.id, p.order_count])).toEqual([
      ["P_w1", 2],
      ["P_w2", 1],
    ]);
    expect(first.orders).toBe(3);

    // the whole batch again, plus a duplicate inside one batch
    expect(await insertOrders(db.sql, [...orders, orders[0]!])).toEqual({ inserted: 0, missingRefs: [], conflicts: [] });
    expect(await check()).toEqual(first);
    // another order under a stored id is refused, naming what differs, and changes nothing
    const reused = order("O_w1", "U_w1", "P_w1", { created_at: new Date("2025-06-01T00:00:00Z"), quantity: 2 });
    expect(await insertOrders(db.sql, [reused])).toEqual({
      inserted: 0,
      missingRefs: [],
      conflicts: [{ id: "O_w1", columns: ["quantity", "total_amount"] }],
    });
    expect(await check()).toEqual(first);
  });

  test("an older order never moves last_ordered_at back", async () => {
    await insertOrders(db.sql, [order("O_w4", "U_w1", "P_w2", { created_at: new Date("2025-01-01T00:00:00Z") })]);
    const [u] = await db.sql`select last_ordered_at from users where id = 'U_w1'`;
    expect((u!.last_ordered_at as Date).toISOString()).toBe("2025-06-03T00:00:00.000Z");
  });

  test("orders whose user or product is missing are reported, the rest written", async () => {
    const res = await insertOrders(db.sql, [
      order("O_w5", "U_nobody", "P_w1"),
      order("O_w6", "U_w1", "P_nothing"),
      order("O_w7", "U_w2", "P_w1"),
    ]);
    expect(res.inserted).toBe(1);
    expect(res.missingRefs.sort()).toEqual(["O_w5", "O_w6"]);
    const ids = await db.sql`select id from orders where id in ('O_w5','O_w6','O_w7')`;
    expect(ids.map((r) => r.id)).toEqual(["O_w7"]);
  });
});

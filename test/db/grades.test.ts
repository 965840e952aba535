import { afterAll, beforeAll, expect, test } from "bun:test";
import { applyGradeChanges, gradeDrift, recomputeGrades } from "../../src/db/grades.ts";
import { insertOrders, insertProducts, insertUsers } from "../../src/db/writers.ts";
import type { Order } from "../../src/domain/types.ts";
import { createTestDatabase, type TestDatabase } from "../../support/db.ts";
import { gradeDifferences, gradesByRule } from "../support/grades.ts";
import { order, product, user } from "../support/fixtures.ts";

// Users sit on every boundary of the grade rule; the updater's result must equal a plain SQL statement of
// the rule written independently here.

let db: TestDatabase;
const AS_OF = new Date("2025-12-31T12:00:00Z");
const DAY = 86_400_000;

// [id, total amount, order count, expected grade]
const CASES: [string, number, number, string][] = [
  ["U_none", 0, 0, "BRONZE"],
  ["U_s_amt_below", 299_999, 3, "BRONZE"],
  ["U_s_cnt_below", 300_000, 2, "BRONZE"],
  ["U_s_at", 300_000, 3, "SILVER"],
  ["U_g_amt_below", 999_999, 8, "SILVER"],
  ["U_g_cnt_below", 1_000_000, 7, "SILVER"],
  ["U_g_at", 1_000_000, 8, "GOLD"],
  ["U_v_amt_below", 2_999_999, 15, "GOLD"],
  ["U_v_cnt_below", 3_000_000, 14, "GOLD"],
  ["U_v_at", 3_000_000, 15, "VIP"],
  ["U_v_big", 9_000_000, 40, "VIP"],
];

function ordersFor(userId: string, amount: number, count: number): Order[] {
  const out: Order[] = [];
  for (let i = 0; i < count; i++) {
    // split the amount exactly: the first order takes the remainder
    const share = Math.floor(amount / count) + (i === 0 ? amount % count : 0);
    out.push(
      order(`O_${userId}_${i}`, userId, "P_g", {
        unit_price: share,
        shipping_cost: 0,
        total_amount: share,
        created_at: new Date(AS_OF.getTime() - (i + 1) * DAY),
      }),
    );
  }
  return out;
}

beforeAll(async () => {
  db = await createTestDatabase("grades");
  await insertProducts(db.sql, [product("P_g")]);
  await insertUsers(db.sql, [
    ...CASES.map(([id]) => user(id)),
    user("U_window"),
    user("U_cancel"),
    user("U_demote", { grade: "VIP" }),
    user("U_lost", { grade: "GOLD" }),
  ]);
  const orders = CASES.flatMap(([id, amount, count]) => ordersFor(id, amount, count));
  // outside the 6-month window: big, old orders count for nothing
  orders.push(...ordersFor("U_window", 5_000_000, 20).map((o) => ({ ...o, created_at: new Date(o.created_at.getTime() - 200 * DAY) })));
  // not PAID: cancelled and refunded orders count for nothing
  orders.push(
    ...ordersFor("U_cancel", 5_000_000, 20).map((o, i) => ({ ...o, status: i % 2 ? ("CANCELLED" as const) : ("REFUNDED" as const) })),
  );
  // GOLD on 10 orders of 150,000 until 3 were cancelled or refunded: 7 orders, 1,050,000 KRW count
  const lifecycle = ["CANCELLED", "REFUNDED", "REFUNDED", "SHIPPED", "DELIVERED"] as const;
  orders.push(...ordersFor("U_lost", 1_500_000, 10).map((o, i) => ({ ...o, status: lifecycle[i] ?? ("PAID" as const) })));
  await insertOrders(db.sql, orders);
});
afterAll(async () => {
  await db.drop();
});

test("every boundary lands on the grade the rule gives, equal to an independent SQL computation", async () => {
  const run = await recomputeGrades(db.sql, AS_OF, "batch");
  const actual = Object.fromEntries((await db.sql`select id, grade from users`).map((r) => [r.id, r.grade]));
  for (const [id, , , grade] of CASES) expect([id, actual[id]]).toEqual([id, grade]);
  expect(actual.U_window).toBe("BRONZE");
  expect(actual.U_cancel).toBe("BRONZE");
  expect(actual.U_demote).toBe("BRONZE");
  expect(actual.U_lost).toBe("SILVER");

  expect(gradeDifferences(new Map(Object.entries(actual)), await gradesByRule(db.sql, AS_OF))).toEqual([]);

  // history only for the changes: 3 to SILVER, 3 to GOLD, 2 to VIP, one VIP demoted, one GOLD down to SILVER
  const history = await db.sql`select * from grade_history order by user_id`;
  expect(history.length).toBe(run.changed);
  expect(run.changed).toBe(10);
  expect(run.changedTo).toEqual({ SILVER: 4, GOLD: 3, VIP: 2, BRONZE: 1 });
  expect(history.find((h) => h.user_id === "U_demote")).toMatchObject({ old_grade: "VIP", new_grade: "BRONZE", reason: "batch" });
  // each change says why: the window the rule saw, and the cancelled or refunded orders it left out
  expect(history.find((h) => h.user_id === "U_lost")).toMatchObject({
    old_grade: "GOLD",
    new_grade: "SILVER",
    window_amount: "1050000",
    window_orders: 7,
    excluded_orders: 3,
  });
  expect(history.find((h) => h.user_id === "U_v_at")).toMatchObject({ window_amount: "3000000", window_orders: 15, excluded_orders: 0 });
  expect(history.every((h) => (h.changed_at as Date).getTime() === AS_OF.getTime())).toBe(true);
});

test("a second run with nothing new changes nothing and writes no history", async () => {
  const before = (await db.sql`select count(*)::int as n from grade_history`)[0]!.n;
  const run = await recomputeGrades(db.sql, AS_OF, "batch");
  expect(run.changed).toBe(0);
  expect((await db.sql`select count(*)::int as n from grade_history`)[0]!.n).toBe(before);
});

test("changes worked out elsewhere are written like the updater's own, and gradeDrift names every grade the rule disagrees with", async () => {
  expect(await gradeDrift(db.sql, AS_OF)).toBe(0); // after recomputeGrades: every grade is the rule's
  const at = new Date(AS_OF.getTime() + DAY);
  // one true change (the rule gives U_s_at SILVER; a day later one of its orders is still in the window), two wrong ones
  const run = await applyGradeChanges(
    db.sql,
    at,
    [
      { id: "U_none", to: "GOLD" },
      { id: "U_g_at", to: "VIP" },
      { id: "U_s_at", to: "SILVER" },
    ],
    "historical",
  );
  expect(run).toEqual({ changed: 2, changedTo: { GOLD: 1, VIP: 1 } }); // U_s_at already held SILVER: no row
  const history = await db.sql`select * from grade_history where reason = 'historical' order by user_id`;
  expect(history.map((h) => [h.user_id, h.old_grade, h.new_grade, h.window_amount, h.window_orders])).toEqual([
    ["U_g_at", "GOLD", "VIP", "1000000", 8],
    ["U_none", "BRONZE", "GOLD", "0", 0],
  ]);
  expect(await gradeDrift(db.sql, at)).toBe(2);
  // the updater's statement puts both back
  expect((await recomputeGrades(db.sql, at, "batch")).changedTo).toEqual({ BRONZE: 1, GOLD: 1 });
  expect(await gradeDrift(db.sql, at)).toBe(0);
  expect(await applyGradeChanges(db.sql, at, [], "historical")).toEqual({ changed: 0, changedTo: {} });
});

test("on a simulated clock the window is the latest orders: as many as five days hold keeps each user's last 5", async () => {
  // ordersFor places order i at AS_OF − (i + 1) days: the orders of the last 5.5 days are every user's orders 0..4
  const [latest] = await db.sql`select count(*)::int as n from orders where created_at > ${new Date(AS_OF.getTime() - 5.5 * DAY)}`;
  const run = await recomputeGrades(db.sql, AS_OF, "batch", latest!.n);
  const actual = Object.fromEntries((await db.sql`select id, grade from users`).map((r) => [r.id, r.grade]));
  // U_v_big: 5 of its 40 orders of 225,000 = 1,125,000 in 5 orders: SILVER (GOLD needs 8)
  expect([actual.U_v_big, actual.U_v_at, actual.U_g_at, actual.U_s_at]).toEqual(["SILVER", "SILVER", "SILVER", "SILVER"]);
  expect(run.changedTo.SILVER).toBeGreaterThanOrEqual(4);
  const [h] = await db.sql`select window_orders from grade_history where user_id = 'U_v_big' order by changed_at desc, id desc limit 1`;
  expect(h!.window_orders).toBe(5);
  expect(await gradeDrift(db.sql, AS_OF)).toBeGreaterThan(0); // the six-month rule disagrees
  // more orders asked for than there are: the window reaches back to the first
  await recomputeGrades(db.sql, AS_OF, "batch", 1_000_000);
  expect((await db.sql`select grade from users where id = 'U_window'`)[0]!.grade).toBe("VIP");
});

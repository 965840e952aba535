import { afterAll, beforeAll, expect, test } from "bun:test";
import { applyTransitions } from "../../src/lifecycle/store.ts";
import { insertOrders, insertProducts, insertUsers } from "../../src/db/writers.ts";
import type { StatusChange } from "../../src/domain/types.ts";
import { lifecycleSchedule } from "../../src/lifecycle/steps.ts";
import { createTestDatabase, type TestDatabase } from "../../support/db.ts";
import { order, product, user } from "../support/fixtures.ts";

// The orders consumers' lifecycle writes against a real PostgreSQL: each step applied once, in
// order, never backwards; what cannot apply yet waits, what can never apply is refused.

let db: TestDatabase;
const T0 = new Date("2026-03-10T02:00:00Z");
const schedule = lifecycleSchedule("lifecycle-db", 1);
const at = (hours: number) => new Date(T0.getTime() + hours * 3_600_000);
const step = (id: string, from: StatusChange["from"], to: StatusChange["to"], hours: number): StatusChange => ({
  order_id: id,
  from,
  to,
  at: at(hours),
  reason: "test",
});
const apply = (changes: StatusChange[], offset = 100) =>
  applyTransitions(db.sql, changes, { partition: 1, offsets: changes.map((_, i) => String(offset + i)) }, schedule);
const row = async (id: string) =>
  (await db.sql`select status, shipped_at, delivered_at, cancelled_at, next_status, next_status_at from orders where id = ${id}`)[0];
const events = async (id: string) =>
  db.sql`select from_status, to_status, at, source_partition, source_offset::int from order_events where order_id = ${id} order by at`;

beforeAll(async () => {
  db = await createTestDatabase("lifecycle");
  await insertUsers(db.sql, [user("U_l1")]);
  await insertProducts(db.sql, [product("P_l1", { category: "DETERGENT" })]);
  await insertOrders(
    db.sql,
    ["O_a", "O_b", "O_c", "O_d"].map((id) => order(id, "U_l1", "P_l1", { created_at: T0, category: "DETERGENT" })),
    { schedule },
  );
});
afterAll(async () => {
  await db.drop();
});

test("an order is stored with its first planned step, and each step applied schedules the next", async () => {
  const first = await row("O_a");
  expect(first!.status).toBe("PAID");
  expect(["SHIPPED", "CANCELLED"]).toContain(first!.next_status);
  expect(first!.next_status_at.getTime()).toBeGreaterThan(T0.getTime());
  const res = await apply([step("O_a", "PAID", "SHIPPED", 20)]);
  expect(res).toMatchObject({ retry: [], rejected: [] });
  expect(res.applied.map((c) => c.to)).toEqual(["SHIPPED"]);
  const shipped = await row("O_a");
  expect(shipped).toMatchObject({ status: "SHIPPED", shipped_at: at(20), next_status: "DELIVERED" });
  expect([...(await events("O_a"))]).toEqual([
    { from_status: "PAID", to_status: "SHIPPED", at: at(20), source_partition: 1, source_offset: 100 },
  ]);
});

test("a redelivered step changes nothing", async () => {
  const before = await row("O_a");
  const res = await apply([step("O_a", "PAID", "SHIPPED", 20)], 900);
  expect(res).toEqual({ applied: [], retry: [], rejected: [] });
  expect(await row("O_a")).toEqual(before);
  expect(await events("O_a")).toHaveLength(1);
});

test("a step that arrives before the one it follows waits; it applies once that one has", async () => {
  const early = await apply([step("O_b", "SHIPPED", "DELIVERED", 50)]);
  expect(early.applied).toEqual([]);
  expect(early.retry).toEqual([{ id: "O_b", reason: expect.stringContaining("waits for the order to reach SHIPPED") }]);
  expect((await row("O_b"))!.status).toBe("PAID");
  await apply([step("O_b", "PAID", "SHIPPED", 20)]);
  expect((await apply([step("O_b", "SHIPPED", "DELIVERED", 50)])).applied).toHaveLength(1);
  expect((await row("O_b"))!.status).toBe("DELIVERED");
});

test("a step for an order not stored yet waits for it", async () => {
  const res = await apply([step("O_later", "PAID", "SHIPPED", 20)]);
  expect(res.retry).toEqual([{ id: "O_later", reason: expect.stringContaining("not stored") }]);
});

test("nothing goes backwards: a step that can never apply is refused, one back in time too", async () => {
  await apply([step("O_c", "PAID", "CANCELLED", 2)]);
  const ship = await apply([step("O_c", "PAID", "SHIPPED", 20)]); // the cancelled order never ships
  expect(ship.rejected).toEqual([{ id: "O_c", reason: expect.stringContaining("can never apply: the order is CANCELLED") }]);
  const deliver = await apply([step("O_c", "SHIPPED", "DELIVERED", 50)]);
  expect(deliver.rejected).toHaveLength(1);
  expect(await row("O_c")).toMatchObject({ status: "CANCELLED", cancelled_at: at(2), shipped_at: null, next_status: null });
  // shipped before it was paid
  const backwards = await apply([step("O_d", "PAID", "SHIPPED", -1)]);
  expect(backwards.rejected).toEqual([{ id: "O_d", reason: expect.stringContaining("goes back before the order's last change") }]);
  expect((await row("O_d"))!.status).toBe("PAID");
});

test("a refused step that was its order's scheduled one is settled: the schedule is cleared, so it is never published again", async () => {
  await insertOrders(db.sql, [order("O_e", "U_l1", "P_l1", { created_at: T0, category: "DETERGENT" })], { schedule });
  const scheduled = (await row("O_e"))!.next_status as StatusChange["to"];
  expect(scheduled).not.toBeNull();
  const refused = await apply([step("O_e", "PAID", scheduled, -1)]); // before the order was placed
  expect(refused.rejected).toHaveLength(1);
  expect(await row("O_e")).toMatchObject({ status: "PAID", next_status: null, next_status_at: null });
  const due = await db.sql`select id from orders where next_status is not null and next_status_at <= ${at(10_000)} and id = 'O_e'`;
  expect(due).toHaveLength(0);
});

test("a next step is never planned before the change it follows (a plan made under another SPEED)", async () => {
  // an order whose plan ships it, its steps planned a thousand times faster than the change arrives
  const fast = lifecycleSchedule("lifecycle-db", 1000);
  const base = { created_at: T0, category: "DETERGENT" } as const;
  const id = Array.from({ length: 50 }, (_, i) => `O_f${i}`).find(
    (o) => fast(order(o, "U_l1", "P_l1", base), "PAID")?.status === "SHIPPED",
  )!;
  await insertOrders(db.sql, [order(id, "U_l1", "P_l1", base)], { schedule: fast });
  const res = await applyTransitions(db.sql, [step(id, "PAID", "SHIPPED", 20)], { partition: 1, offsets: ["900"] }, fast);
  expect(res.applied).toHaveLength(1);
  const r = await row(id);
  expect(r!.next_status).toBe("DELIVERED");
  expect(fast(order(id, "U_l1", "P_l1", base), "SHIPPED")!.at.getTime()).toBeLessThan(at(20).getTime()); // the plan alone: in the past
  expect(r!.next_status_at.getTime()).toBeGreaterThanOrEqual(at(20).getTime()); // the schedule: not before the change
  // so the step, when it comes, applies
  const deliver = await applyTransitions(
    db.sql,
    [{ ...step(id, "SHIPPED", "DELIVERED", 0), at: r!.next_status_at }],
    { partition: 1, offsets: ["901"] },
    fast,
  );
  expect(deliver.applied).toHaveLength(1);
});

test("grades count orders neither cancelled nor refunded", async () => {
  const counted = await db.sql`
    select count(*)::int as n from orders where id in ('O_a', 'O_b', 'O_c', 'O_d') and status not in ('CANCELLED', 'REFUNDED')`;
  expect(counted[0]!.n).toBe(3); // O_c is cancelled
});

import { expect, test } from "bun:test";
import { encodeRow } from "../../src/db/copy.ts";
import { ORDERS, rowValues } from "../../src/db/tables.ts";
import { buildOrder } from "../../src/domain/orders.ts";
import { Rng } from "../../src/domain/random.ts";
import { seoulTime } from "../../src/domain/seoul-time.ts";
import { signUps } from "../../src/historical/generator.ts";
import { DAY_MS } from "../../src/historical/plan.ts";
import { planLifecycle } from "../../src/lifecycle/plan.ts";
import { eventCopyLines, orderCopyLine } from "../../src/historical/writer.ts";

test("the hand-written order line is the generic COPY encoding of the same row, with its lifecycle", () => {
  const rng = new Rng("line");
  for (const [i, region] of ["서울", "제주", "경기"].entries()) {
    const order = buildOrder({
      id: `O_${region}`,
      user: { id: "U_1", age: 27, gender: "M", region },
      product: { id: "P_1", category: "FRESH", price: 12_300 },
      quantity: 2,
      at: new Date("2025-05-05T05:05:05.005Z"),
      rng,
    });
    // none, part of, or the whole of its plan inside the period
    const plan = planLifecycle(order, "line");
    const done = plan.slice(0, i === 0 ? 0 : i === 1 ? 1 : plan.length);
    const at = (to: string) => done.find((t) => t.to === to)?.at ?? null;
    const status = done.at(-1)?.to ?? "PAID";
    // with --clicks, the session it was placed in
    const sessionId = i === 1 ? `S_${region}` : undefined;
    expect(orderCopyLine(order, done, sessionId)).toBe(
      encodeRow([
        ...rowValues(ORDERS, { ...order, status, session_id: sessionId ?? null }),
        at("SHIPPED"),
        at("DELIVERED"),
        at("CANCELLED"),
        at("REFUNDED"),
        "historical",
      ]),
    );
    expect(eventCopyLines(order.id, done)).toBe(
      done.map((t) => encodeRow([order.id, t.from, t.to, t.at, t.reason, "historical"])).join(""),
    );
  }
  const bad = buildOrder({
    id: "O_x",
    user: { id: "U_1", age: 27, gender: "M", region: "서\t울" },
    product: { id: "P_1", category: "FRESH", price: 1 },
    quantity: 1,
    at: new Date(),
    rng,
  });
  expect(() => orderCopyLine(bad, [])).toThrow("control character");
});

test("sign-ups land inside their day, in time order, active ones logged in when they signed up", () => {
  const start = seoulTime(2025, 3, 1);
  const users = signUps({ index: 0, start, orders: 0, newUsers: 50 }, new Rng("signups"), new Set());
  expect(users.length).toBe(50);
  for (let i = 0; i < users.length; i++) {
    const u = users[i]!;
    expect(u.id.startsWith("U_")).toBe(true);
    expect(u.created_at.getTime()).toBeGreaterThanOrEqual(start.getTime());
    expect(u.created_at.getTime()).toBeLessThan(start.getTime() + DAY_MS);
    if (i > 0) expect(u.created_at.getTime()).toBeGreaterThanOrEqual(users[i - 1]!.created_at.getTime());
    expect(u.last_login_at).toEqual(u.status === "ACTIVE" ? u.created_at : null);
    expect(u.grade).toBe("BRONZE");
  }
  expect(new Set(users.map((u) => u.email)).size).toBe(50);
  expect(signUps({ index: 0, start, orders: 0, newUsers: 0 }, new Rng("signups"), new Set())).toEqual([]);
});

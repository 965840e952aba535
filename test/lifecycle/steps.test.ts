import { expect, test } from "bun:test";
import type { StatusChange } from "../../src/domain/types.ts";
import { judgeStep, lifecycleSchedule, type StoredOrder, stepAfter } from "../../src/lifecycle/steps.ts";

// The rules a live step meets, apart from the store that reads and writes it.

const at = (iso: string) => new Date(iso);
const order = (status: StoredOrder["status"], lastAt = "2026-01-01T10:00:00Z"): StoredOrder => ({
  id: "O_1",
  status,
  next_status: null,
  category: "BOOKS",
  created_at: at("2026-01-01T10:00:00Z"),
  last_at: at(lastAt),
});
const step = (from: StatusChange["from"], to: StatusChange["to"], when = "2026-01-02T10:00:00Z"): StatusChange => ({
  order_id: "O_1",
  from,
  to,
  at: at(when),
  reason: "test",
});

test("a step applies once, to an order at its from-status, never back before its last change", () => {
  expect(judgeStep(step("PAID", "SHIPPED"), order("PAID"), false)).toEqual({ kind: "apply" });
  expect(judgeStep(step("PAID", "SHIPPED"), order("PAID"), true)).toEqual({ kind: "redelivered" });
  expect(judgeStep(step("PAID", "SHIPPED", "2026-01-01T09:00:00Z"), order("PAID"), false)).toEqual({
    kind: "reject",
    reason: "PAID → SHIPPED at 2026-01-01T09:00:00.000Z goes back before the order's last change",
  });
});

test("a step waits for its order, and for the steps before it; one the order can never reach is refused", () => {
  expect(judgeStep(step("PAID", "SHIPPED"), undefined, false)).toEqual({
    kind: "retry",
    reason: "order PAID → SHIPPED: the order was not stored",
  });
  expect(judgeStep(step("SHIPPED", "DELIVERED"), order("PAID"), false)).toEqual({
    kind: "retry",
    reason: "SHIPPED → DELIVERED waits for the order to reach SHIPPED (it is PAID) and did not",
  });
  expect(judgeStep(step("SHIPPED", "DELIVERED"), order("CANCELLED"), false)).toEqual({
    kind: "reject",
    reason: "SHIPPED → DELIVERED can never apply: the order is CANCELLED",
  });
});

test("the next step is the plan's, never scheduled before the step it follows", () => {
  const schedule = lifecycleSchedule("steps-test", 1);
  const o = order("PAID");
  const planned = schedule(o, "PAID");
  expect(planned?.status).toBe("SHIPPED"); // this seed's order ships
  const shipped = step("PAID", "SHIPPED", "2026-01-01T11:00:00Z");
  // at its planned time or later, the plan's own next step
  const next = schedule(o, shipped.to);
  expect(next?.status).toBe("DELIVERED");
  expect(stepAfter(schedule, o, shipped)).toEqual(next);
  // a step injected far ahead: what follows is due no earlier than it
  const late = { ...shipped, at: at("2030-01-01T00:00:00Z") };
  expect(stepAfter(schedule, o, late)).toEqual({ status: "DELIVERED", at: late.at });
});

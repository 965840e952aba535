import { describe, expect, test } from "bun:test";
import { CATEGORIES } from "../../src/domain/categories.ts";
import { isLegal } from "../../src/domain/order-status.ts";
import { lifecycleProfile, nextTransition, planLifecycle, stateAt, type Transition } from "../../src/lifecycle/plan.ts";
import type { ORDER_STATUSES } from "../../src/domain/types.ts";

const T0 = new Date("2026-03-10T11:00:00Z");
const orders = (category: string, n: number) =>
  Array.from({ length: n }, (_, i) => ({ id: `O_${category}_${i}`, category, created_at: T0 }));
const HOUR = 3_600_000;

describe("plans", () => {
  const plans = CATEGORIES.flatMap((c) => orders(c.code, 400).map((o) => ({ o, plan: planLifecycle(o, "42") })));

  test("every plan is a legal path from PAID with increasing times after the payment", () => {
    for (const { o, plan } of plans) {
      let status = "PAID" as (typeof ORDER_STATUSES)[number];
      let at = o.created_at.getTime();
      for (const t of plan) {
        expect(t.from).toBe(status);
        expect(isLegal(t.from, t.to)).toBe(true);
        expect(t.at.getTime()).toBeGreaterThan(at);
        expect(t.reason.length).toBeGreaterThan(2);
        status = t.to;
        at = t.at.getTime();
      }
      expect(["CANCELLED", "DELIVERED", "REFUNDED"]).toContain(status);
    }
  });

  test("the same seed and order give the same plan; another seed another", () => {
    const o = { id: "O_same", category: "FASHION_SS", created_at: T0 };
    expect(planLifecycle(o, "42")).toEqual(planLifecycle(o, "42"));
    const differs = Array.from({ length: 20 }, (_, i) => ({ ...o, id: `O_${i}` })).some(
      (x) => JSON.stringify(planLifecycle(x, "42")) !== JSON.stringify(planLifecycle(x, "43")),
    );
    expect(differs).toBe(true);
  });

  test("--speed divides every delay", () => {
    const o = { id: "O_speed", category: "FURNITURE", created_at: T0 };
    const slow = planLifecycle(o, "42");
    const fast = planLifecycle(o, "42", 100);
    expect(fast.map((t) => t.to)).toEqual(slow.map((t) => t.to));
    // to the millisecond each fast time was rounded to
    for (const [i, t] of fast.entries()) {
      expect(Math.abs((t.at.getTime() - T0.getTime()) * 100 - (slow[i]!.at.getTime() - T0.getTime()))).toBeLessThan(300);
    }
  });

  test("state at a time: the transitions done by then, the next one planned", () => {
    const plan = planLifecycle({ id: "O_state", category: "DETERGENT", created_at: T0 }, "7");
    expect(stateAt(plan, T0).status).toBe("PAID");
    const shipped = plan.find((t) => t.to === "SHIPPED");
    if (shipped) {
      expect(stateAt(plan, shipped.at).status).toBe("SHIPPED");
      expect(nextTransition(plan, "SHIPPED")?.to).toBe("DELIVERED");
    } else expect(stateAt(plan, new Date(T0.getTime() + 100 * HOUR)).status).toBe("CANCELLED");
    expect(nextTransition(plan, "REFUNDED")).toBeNull();
  });
});

describe("per-category rates and delays (20,000 orders a category, seeded)", () => {
  const stats = (category: string) => {
    const all = orders(category, 20_000).map((o) => planLifecycle(o, "rates"));
    const cancelled = all.filter((p) => p[0]!.to === "CANCELLED").length;
    const delivered = all.filter((p) => p.some((t) => t.to === "DELIVERED"));
    const refunded = delivered.filter((p) => p.some((t) => t.to === "REFUNDED")).length;
    const hoursTo = (to: string) =>
      all.flatMap((p) => p.filter((t) => t.to === to)).map((t: Transition) => (t.at.getTime() - T0.getTime()) / HOUR);
    return { cancel: cancelled / all.length, refund: refunded / delivered.length, ship: hoursTo("SHIPPED"), deliver: hoursTo("DELIVERED") };
  };

  test("each category's cancel and refund rates are its profile's, within 1 pp", () => {
    for (const c of CATEGORIES) {
      const s = stats(c.code);
      const p = lifecycleProfile(c.code);
      expect([c.code, Math.abs(s.cancel - p.cancel) < 0.01, Math.abs(s.refund - p.refund) < 0.01]).toEqual([c.code, true, true]);
      expect(Math.min(...s.ship)).toBeGreaterThanOrEqual(p.shipHours[0]);
      expect(Math.max(...s.ship)).toBeLessThanOrEqual(p.shipHours[1]);
    }
  });

  test("a Korean shop's shape: dawn groceries arrive overnight, fashion is returned far more than food, tickets are cancelled more than parcels", () => {
    const fresh = stats("FRESH");
    const fashion = stats("FASHION_FW");
    const tickets = stats("FLIGHTS");
    const detergent = stats("DETERGENT");
    expect(Math.max(...fresh.deliver)).toBeLessThanOrEqual(12); // paid in the evening, on the doorstep by morning
    const nextDay = detergent.ship.filter((h) => h >= 12 && h <= 30).length / detergent.ship.length;
    expect(nextDay).toBe(1); // most parcels ship the next day
    expect(fashion.refund).toBeGreaterThan(10 * fresh.refund);
    expect(tickets.cancel).toBeGreaterThan(3 * detergent.cancel);
  });
});

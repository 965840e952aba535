import { describe, expect, test } from "bun:test";
import { canStillReach, isLegal, TRANSITIONS } from "../../src/domain/order-status.ts";
import { ORDER_STATUSES } from "../../src/domain/types.ts";

describe("the state machine", () => {
  test("exactly PAID→SHIPPED, PAID→CANCELLED, SHIPPED→DELIVERED, DELIVERED→REFUNDED are legal", () => {
    const legal = ORDER_STATUSES.flatMap((from) => ORDER_STATUSES.filter((to) => isLegal(from, to)).map((to) => `${from}→${to}`));
    expect(legal.sort()).toEqual(["DELIVERED→REFUNDED", "PAID→CANCELLED", "PAID→SHIPPED", "SHIPPED→DELIVERED"]);
    // nothing goes backwards, nothing leaves a terminal status, nothing skips a step
    for (const s of ORDER_STATUSES) expect(isLegal(s, s)).toBe(false);
    for (const to of ORDER_STATUSES) expect(isLegal("CANCELLED", to) || isLegal("REFUNDED", to)).toBe(false);
    expect(isLegal("PAID", "DELIVERED") || isLegal("PAID", "REFUNDED") || isLegal("SHIPPED", "CANCELLED")).toBe(false);
    expect(TRANSITIONS.CANCELLED).toEqual([]);
  });

  test("a transition can wait for an earlier one only on its own path", () => {
    expect(canStillReach("PAID", "SHIPPED")).toBe(true); // SHIPPED→DELIVERED before PAID→SHIPPED arrived
    expect(canStillReach("SHIPPED", "DELIVERED")).toBe(true);
    expect(canStillReach("CANCELLED", "SHIPPED")).toBe(false); // a cancelled order never ships
    expect(canStillReach("DELIVERED", "SHIPPED")).toBe(false); // already past it
    expect(canStillReach("SHIPPED", "SHIPPED")).toBe(false);
  });
});

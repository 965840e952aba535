import { describe, expect, test } from "bun:test";
import { GRADE_RULES, GRADE_WINDOW_MONTHS, gradeFor } from "../../src/domain/grades.ts";

describe("gradeFor", () => {
  test("rules are VIP, GOLD, SILVER with the documented thresholds", () => {
    expect(GRADE_RULES).toEqual([
      { grade: "VIP", minAmount: 3_000_000, minOrders: 15 },
      { grade: "GOLD", minAmount: 1_000_000, minOrders: 8 },
      { grade: "SILVER", minAmount: 300_000, minOrders: 3 },
    ]);
    expect(GRADE_WINDOW_MONTHS).toBe(6);
  });

  test.each([
    // [amount, orders, grade]
    [3_000_000, 15, "VIP"],
    [2_999_999, 15, "GOLD"],
    [3_000_000, 14, "GOLD"],
    [50_000_000, 100, "VIP"],
    [1_000_000, 8, "GOLD"],
    [999_999, 8, "SILVER"],
    [1_000_000, 7, "SILVER"],
    [300_000, 3, "SILVER"],
    [299_999, 3, "BRONZE"],
    [300_000, 2, "BRONZE"],
    [0, 0, "BRONZE"],
    // one condition far above, the other short: the lower grade only
    [10_000_000, 2, "BRONZE"],
    [100_000, 50, "BRONZE"],
    [2_000_000, 3, "SILVER"],
    [900_000, 20, "SILVER"],
  ] as const)("%d KRW over %d orders → %s", (amount, orders, grade) => {
    expect(gradeFor(amount, orders)).toBe(grade);
  });
});

// Membership grades (docs/design.md, "Grades"): over a 6-month rolling window of PAID orders, both the amount and the
// order count must reach a grade's threshold.
import type { Grade } from "./types.ts";

export const GRADE_WINDOW_MONTHS = 6;

/** Highest first: the first rule a user meets is their grade. */
export const GRADE_RULES: readonly { grade: Grade; minAmount: number; minOrders: number }[] = [
  { grade: "VIP", minAmount: 3_000_000, minOrders: 15 },
  { grade: "GOLD", minAmount: 1_000_000, minOrders: 8 },
  { grade: "SILVER", minAmount: 300_000, minOrders: 3 },
];

export function gradeFor(totalAmount: number, orderCount: number): Grade {
  for (const rule of GRADE_RULES) {
    if (totalAmount >= rule.minAmount && orderCount >= rule.minOrders) return rule.grade;
  }
  return "BRONZE";
}

import type { Order } from "./types.ts";

// The coupon behind an order's discount, carried from version 2 of the order schema on
// (docs/design.md, "Schemas"): none without a discount, else named after the category and the
// discount's size in thousands of won. A function of the order, so the same seed gives the same codes.

export function couponFor(order: Pick<Order, "discount_amount" | "category">): string | null {
  if (order.discount_amount <= 0) return null;
  return `${order.category}-${Math.max(1, Math.round(order.discount_amount / 1000))}K`;
}

import type { OrderStatus } from "./types.ts";

// The order's states and the moves between them (docs/design.md, "Order lifecycle"): what every
// layer agrees on — the Kafka contract checks a step against it, the store judges one by it, the
// grades count by it. When and why an order moves is the lifecycle's plan (src/lifecycle/).

export const TRANSITIONS: Readonly<Record<OrderStatus, readonly OrderStatus[]>> = {
  PAID: ["SHIPPED", "CANCELLED"],
  SHIPPED: ["DELIVERED"],
  DELIVERED: ["REFUNDED"],
  CANCELLED: [],
  REFUNDED: [],
};

/** The statuses a transition can reach (all but PAID, where every order starts). */
export const LIFECYCLE_STEPS: readonly OrderStatus[] = ["SHIPPED", "DELIVERED", "CANCELLED", "REFUNDED"];

export function isLegal(from: OrderStatus, to: OrderStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

/** The statuses an order passes through to reach `status`, PAID first ("where is it on its path"). */
export function pathTo(status: OrderStatus): readonly OrderStatus[] {
  switch (status) {
    case "PAID":
      return ["PAID"];
    case "CANCELLED":
      return ["PAID", "CANCELLED"];
    case "SHIPPED":
      return ["PAID", "SHIPPED"];
    case "DELIVERED":
      return ["PAID", "SHIPPED", "DELIVERED"];
    case "REFUNDED":
      return ["PAID", "SHIPPED", "DELIVERED", "REFUNDED"];
  }
}

/** Whether an order now at `current` can still reach `from` (a transition waiting for an earlier one). */
export function canStillReach(current: OrderStatus, from: OrderStatus): boolean {
  const path = pathTo(from);
  return current !== from && path.includes(current);
}

/** The statuses that count towards a grade: everything but cancelled and refunded orders. */
export const COUNTED_STATUSES: readonly OrderStatus[] = ["PAID", "SHIPPED", "DELIVERED"];

/** An order's next planned step: which status, when. */
export interface ScheduledStep {
  status: OrderStatus;
  at: Date;
}

/** The next step of an order now at `status`, from its lifecycle plan (null: it has none). */
export type Schedule = (order: { id: string; category: string; created_at: Date }, status: OrderStatus) => ScheduledStep | null;

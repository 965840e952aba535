import type { OrderStatus, StatusChange } from "../domain/types.ts";
import { canStillReach, type Schedule, type ScheduledStep } from "../domain/order-status.ts";
import { nextTransition, planLifecycle } from "./plan.ts";

// The rules a live step meets when the orders consumers apply it (docs/design.md, "Order
// lifecycle"): each step applies at most once and never backwards. Pure: the store reads the
// orders and their recorded steps, these rules judge each step, the store writes the verdicts.

/** The schedule every live part computes alike: the order's plan under `seed`, its delays ÷ `speed`. */
export function lifecycleSchedule(seed: string, speed: number): Schedule {
  return (order, status) => {
    const step = nextTransition(planLifecycle(order, seed, speed), status);
    return step ? { status: step.to, at: step.at } : null;
  };
}

/** What a step meets in the store: its order as stored now. */
export interface StoredOrder {
  id: string;
  status: OrderStatus;
  next_status: OrderStatus | null;
  category: string;
  created_at: Date;
  /** When it last changed status (its creation at first). */
  last_at: Date;
}

export type Verdict =
  /** Move the order and record the step. */
  | { kind: "apply" }
  /** Recorded already (a redelivery): nothing changes. */
  | { kind: "redelivered" }
  /** Not yet: the order is not stored, or waits for an earlier step. */
  | { kind: "retry"; reason: string }
  /** Never: the order went another way, or the step goes back in time. */
  | { kind: "reject"; reason: string };

/** The verdict on `change` for its order as stored (`order` undefined: not stored), `recorded` when the step is in order_events. */
export function judgeStep(change: StatusChange, order: StoredOrder | undefined, recorded: boolean): Verdict {
  const step = `${change.from} → ${change.to}`;
  if (!order) return { kind: "retry", reason: `order ${step}: the order was not stored` };
  if (recorded) return { kind: "redelivered" };
  if (order.status === change.from) {
    if (change.at.getTime() < order.last_at.getTime())
      return { kind: "reject", reason: `${step} at ${change.at.toISOString()} goes back before the order's last change` };
    return { kind: "apply" };
  }
  if (canStillReach(order.status, change.from))
    return { kind: "retry", reason: `${step} waits for the order to reach ${change.from} (it is ${order.status}) and did not` };
  return { kind: "reject", reason: `${step} can never apply: the order is ${order.status}` };
}

/**
 * The step planned after `change`, never before it: a plan computed under another SPEED, or a step
 * injected far ahead, would otherwise schedule a step that is refused for ever.
 */
export function stepAfter(schedule: Schedule, order: StoredOrder, change: StatusChange): ScheduledStep | null {
  const next = schedule(order, change.to);
  return next && next.at.getTime() < change.at.getTime() ? { ...next, at: change.at } : next;
}

import { Rng } from "../domain/random.ts";
import type { OrderStatus } from "../domain/types.ts";

// An order's life after payment (docs/design.md, "Order lifecycle"): PAID → SHIPPED → DELIVERED,
// PAID → CANCELLED before it ships, DELIVERED → REFUNDED inside the return window. What happens and
// when is drawn per category from the order's own seeded stream (seed + order id), so every part of
// the pipeline — the consumers scheduling the next step, the lifecycle service emitting it, the
// historical year — computes the same plan for the same order, at any time, with no shared state.

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

export interface LifecycleProfile {
  /** Share of orders cancelled before they ship. */
  cancel: number;
  /** Hours from payment to shipping (uniform). */
  shipHours: readonly [number, number];
  /** Hours from shipping to delivery (uniform). */
  deliverHours: readonly [number, number];
  /** Share of delivered orders returned and refunded. */
  refund: number;
  /** Days after delivery within which a return comes (uniform). */
  returnDays: readonly [number, number];
  cancelReasons: readonly string[];
  refundReasons: readonly string[];
}

const CHANGED_MIND = "고객 변심 (changed mind)";
const PARCEL: Pick<LifecycleProfile, "cancelReasons" | "refundReasons"> = {
  cancelReasons: [CHANGED_MIND, "결제 수단 변경 (payment changed)", "재고 부족 (out of stock)"],
  refundReasons: [CHANGED_MIND, "상품 불량 (defective)", "배송 중 파손 (damaged in delivery)"],
};

// The numbers of docs/design.md, "Order lifecycle" (and the README).
const PROFILES = {
  // 새벽배송: paid by late evening, on the doorstep by 7 am; food is rarely sent back
  dawn: { cancel: 0.02, shipHours: [1, 4], deliverHours: [3, 8], refund: 0.01, returnDays: [0.2, 2], ...PARCEL },
  household: { cancel: 0.03, shipHours: [12, 30], deliverHours: [18, 48], refund: 0.02, returnDays: [1, 7], ...PARCEL },
  beauty: { cancel: 0.04, shipHours: [12, 30], deliverHours: [18, 48], refund: 0.04, returnDays: [1, 7], ...PARCEL },
  // clothes are tried on at home: the most returned
  fashion: {
    cancel: 0.06,
    shipHours: [12, 36],
    deliverHours: [24, 72],
    refund: 0.18,
    returnDays: [1, 7],
    cancelReasons: PARCEL.cancelReasons,
    refundReasons: ["사이즈 불일치 (wrong size)", "색상·소재 불만족 (not as pictured)", CHANGED_MIND],
  },
  gear: { cancel: 0.05, shipHours: [12, 36], deliverHours: [24, 72], refund: 0.06, returnDays: [1, 7], ...PARCEL },
  // installed delivery: days to schedule, and often called off
  bulky: { cancel: 0.08, shipHours: [24, 96], deliverHours: [48, 120], refund: 0.05, returnDays: [1, 7], ...PARCEL },
  // e-tickets: "shipped" is the ticket issued within minutes, "delivered" it confirmed; plans change
  ticket: {
    cancel: 0.12,
    shipHours: [0.05, 0.5],
    deliverHours: [0.5, 2],
    refund: 0.03,
    returnDays: [0.5, 3],
    cancelReasons: ["일정 변경 (plans changed)", "중복 예약 (booked twice)", CHANGED_MIND],
    refundReasons: ["일정 취소 (trip cancelled)", "환불 규정 (refund policy)"],
  },
} satisfies Record<string, LifecycleProfile>;

const PROFILE_OF: Readonly<Record<string, LifecycleProfile>> = {
  FRESH: PROFILES.dawn,
  MEAT: PROFILES.dawn,
  DETERGENT: PROFILES.household,
  PAPER: PROFILES.household,
  SKINCARE: PROFILES.beauty,
  ANTI_AGING: PROFILES.beauty,
  SUPPLEMENTS: PROFILES.beauty,
  HEALTH_FOOD: PROFILES.beauty,
  FASHION_SS: PROFILES.fashion,
  FASHION_FW: PROFILES.fashion,
  IT_GAMING: PROFILES.gear,
  OFFICE: PROFILES.gear,
  CAMPING: PROFILES.gear,
  GOLF: PROFILES.gear,
  APPLIANCES: PROFILES.bulky,
  FURNITURE: PROFILES.bulky,
  TICKETS: PROFILES.ticket,
  FLIGHTS: PROFILES.ticket,
  LODGING: PROFILES.ticket,
};

export function lifecycleProfile(category: string): LifecycleProfile {
  return PROFILE_OF[category] ?? PROFILES.household;
}

export interface Transition {
  from: OrderStatus;
  to: OrderStatus;
  at: Date;
  reason: string;
}

export interface LifecycleOrder {
  id: string;
  category: string;
  created_at: Date;
}

/**
 * Every transition the order will go through, in order, at their times. `speed` divides every delay
 * (--speed, for demos and tests). The same seed and order give the same plan.
 */
export function planLifecycle(order: LifecycleOrder, seed: string, speed = 1): Transition[] {
  const rng = new Rng(`lifecycle:${seed}:${order.id}`);
  const p = lifecycleProfile(order.category);
  const hours = (range: readonly [number, number]) => (rng.uniform(range[0], range[1]) * HOUR) / speed;
  const paid = order.created_at.getTime();
  const shipAt = paid + Math.max(1, hours(p.shipHours));
  if (rng.chance(p.cancel)) {
    // called off some time before it would have shipped
    const at = paid + Math.max(1, (shipAt - paid) * rng.uniform(0.05, 0.95));
    return [{ from: "PAID", to: "CANCELLED", at: new Date(at), reason: rng.pick(p.cancelReasons) }];
  }
  const deliveredAt = shipAt + Math.max(1, hours(p.deliverHours));
  const plan: Transition[] = [
    { from: "PAID", to: "SHIPPED", at: new Date(shipAt), reason: "출고 (shipped)" },
    { from: "SHIPPED", to: "DELIVERED", at: new Date(deliveredAt), reason: "배송 완료 (delivered)" },
  ];
  if (rng.chance(p.refund)) {
    const at = deliveredAt + Math.max(1, (rng.uniform(p.returnDays[0], p.returnDays[1]) * DAY) / speed);
    plan.push({ from: "DELIVERED", to: "REFUNDED", at: new Date(at), reason: rng.pick(p.refundReasons) });
  }
  return plan;
}

/** The planned transition out of `status`, if the order has one. */
export function nextTransition(plan: readonly Transition[], status: OrderStatus): Transition | null {
  return plan.find((t) => t.from === status) ?? null;
}

/** Where the plan has taken the order by `at`: its status then, and the transitions done by then. */
export function stateAt(plan: readonly Transition[], at: Date): { status: OrderStatus; done: Transition[] } {
  const done = plan.filter((t) => t.at.getTime() <= at.getTime());
  return { status: done.length ? (done[done.length - 1] as Transition).to : "PAID", done };
}

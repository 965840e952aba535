// One order from a buyer, a product and a quantity: prices, shipping, discount, payment, status and
// the snapshot columns analysts group by.
import type { Rng } from "./random.ts";
import { ageBandOf, type AgeBand, type Gender, type Order, type PaymentMethod } from "./types.ts";

export interface OrderBuyer {
  id: string;
  age: number | null;
  gender: Gender;
  region: string;
}
export interface OrderProduct {
  id: string;
  category: string;
  price: number;
}

export const FREE_SHIPPING_FROM = 50_000;
export const SHIPPING_STANDARD = 2_500;
/** Cold-chain categories cost more to ship. */
export const SHIPPING_COLD = 3_000;
const COLD_CHAIN = new Set(["FRESH", "MEAT"]);
/** E-tickets, flights and rooms are not shipped. */
const NOT_SHIPPED = new Set(["TICKETS", "FLIGHTS", "LODGING"]);

/** A coupon takes at most this fraction of the line total. */
const MAX_COUPON_FRACTION = 0.1;
const COUPON_PROBABILITY = 0.35;

const PAYMENT_METHODS: readonly PaymentMethod[] = ["CARD", "NAVER_PAY", "KAKAO_PAY", "BANK_TRANSFER"];
// Younger buyers live in the pay apps; older ones stick with cards and bank transfers.
export const PAYMENT_WEIGHTS: Readonly<Record<AgeBand, readonly number[]>> = {
  "10s": [25, 30, 40, 5],
  "20s": [30, 32, 33, 5],
  "30s": [40, 28, 24, 8],
  "40s": [52, 20, 14, 14],
  "50s+": [58, 10, 10, 22],
};

export function shippingCost(category: string, subtotal: number): number {
  if (NOT_SHIPPED.has(category) || subtotal >= FREE_SHIPPING_FROM) return 0;
  return COLD_CHAIN.has(category) ? SHIPPING_COLD : SHIPPING_STANDARD;
}

/** Coupon discount: none on most orders, otherwise 1–10 % of the subtotal, floored to 10 KRW. */
export function drawDiscount(subtotal: number, rng: Rng): number {
  if (!rng.chance(COUPON_PROBABILITY)) return 0;
  const rate = rng.uniform(0.01, MAX_COUPON_FRACTION);
  return Math.floor((subtotal * rate) / 10) * 10;
}

export function drawPaymentMethod(band: AgeBand, rng: Rng): PaymentMethod {
  return PAYMENT_METHODS[rng.weightedIndex(PAYMENT_WEIGHTS[band])] as PaymentMethod;
}

export function buildOrder(a: { id: string; user: OrderBuyer; product: OrderProduct; quantity: number; at: Date; rng: Rng }): Order {
  const { user, product, quantity, rng } = a;
  if (!Number.isInteger(quantity) || quantity < 1) throw new Error(`quantity must be a positive integer, got ${quantity}`);
  const band = ageBandOf(user.age);
  const subtotal = product.price * quantity;
  const shipping = shippingCost(product.category, subtotal);
  const discount = drawDiscount(subtotal, rng);
  return {
    id: a.id,
    user_id: user.id,
    product_id: product.id,
    quantity,
    unit_price: product.price,
    shipping_cost: shipping,
    discount_amount: discount,
    total_amount: subtotal + shipping - discount,
    payment_method: drawPaymentMethod(band, rng),
    // born paid; what happens next is the lifecycle's (src/lifecycle/plan.ts)
    status: "PAID",
    created_at: a.at,
    category: product.category,
    user_region: user.region,
    user_gender: user.gender,
    user_age_band: band,
  };
}

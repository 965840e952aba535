import type { Order } from "../domain/types.ts";
import { ageBand, category, gender, type IdPrefix, InvalidEvent, paymentMethod, region, SHIPPING_COSTS } from "./contract.ts";

// The order schema (contract.ts) as plain checks, for the producer (encode() in envelope.ts): zod's walk (a copy of the object, a
// Date per date, the refinements) costs a producer more than a third of its CPU per order
// (bench/RESULTS.md, "Producer A/B"). The enums are the schema's own; test/kafka/envelope.test.ts
// feeds both the same broken orders and expects the same verdict, field by field.
const ENUMS = {
  category: new Set<unknown>(category.options),
  user_region: new Set<unknown>(region.options),
  user_gender: new Set<unknown>(gender.options),
  user_age_band: new Set<unknown>(ageBand.options),
  payment_method: new Set<unknown>(paymentMethod.options),
  shipping_cost: new Set<unknown>(SHIPPING_COSTS),
};
const isId = (v: unknown) => typeof v === "string" && v.length >= 1 && v.length <= 64;
const isIdOf = (v: unknown, prefix: IdPrefix) => isId(v) && (v as string).startsWith(prefix);
const isKrw = (v: unknown) => Number.isSafeInteger(v) && (v as number) >= 0;
export function isShopDate(v: unknown): boolean {
  if (!(v instanceof Date)) return false;
  const year = v.getUTCFullYear(); // NaN for an invalid date
  return year >= 1990 && year <= 2100;
}

export function checkOrder(occurredAt: string | null, o: Order): void {
  const wrong = (path: string, why: string) => {
    throw new InvalidEvent(`${path}: ${why}`);
  };
  // in the schema's order, so that the first fault named is the one the consumer would name
  if (typeof o.id !== "string" || o.id.length === 0) wrong("event_id", "expected a non-empty string");
  if (occurredAt === null || !isShopDate(new Date(occurredAt))) wrong("occurred_at", "not a date in 1990–2100");
  if (!isIdOf(o.id, "O_")) wrong("data.id", "expected 1–64 characters starting with O_");
  if (!isIdOf(o.user_id, "U_")) wrong("data.user_id", "expected 1–64 characters starting with U_");
  if (!isIdOf(o.product_id, "P_")) wrong("data.product_id", "expected 1–64 characters starting with P_");
  if (!Number.isSafeInteger(o.quantity) || o.quantity <= 0) wrong("data.quantity", "expected a positive integer");
  if (!isKrw(o.unit_price)) wrong("data.unit_price", "expected a non-negative integer");
  if (!ENUMS.shipping_cost.has(o.shipping_cost)) wrong("data.shipping_cost", "expected 0, 2500 or 3000");
  if (!isKrw(o.discount_amount)) wrong("data.discount_amount", "expected a non-negative integer");
  if (!Number.isSafeInteger(o.total_amount)) wrong("data.total_amount", "expected an integer");
  if (!ENUMS.payment_method.has(o.payment_method)) wrong("data.payment_method", "not one of the contract's values");
  if (o.status !== "PAID") wrong("data.status", 'expected "PAID"');
  if (!isShopDate(o.created_at)) wrong("data.created_at", "not a date in 1990–2100");
  for (const field of ["category", "user_region", "user_gender", "user_age_band"] as const)
    if (!ENUMS[field].has(o[field])) wrong(`data.${field}`, "not one of the contract's values");
  const coupon = o.coupon_code;
  if (coupon !== undefined && coupon !== null && (typeof coupon !== "string" || coupon.length < 1 || coupon.length > 40))
    wrong("data.coupon_code", "expected 1–40 characters or null");
  if (o.session_id !== undefined && o.session_id !== null && !isIdOf(o.session_id, "S_"))
    wrong("data.session_id", "expected 1–64 characters starting with S_, or null");
  if (o.total_amount !== o.unit_price * o.quantity + o.shipping_cost - o.discount_amount)
    wrong("data.total_amount", "total_amount must equal unit_price × quantity + shipping_cost − discount_amount");
  if (o.discount_amount > o.unit_price * o.quantity) wrong("data.discount_amount", "discount_amount exceeds unit_price × quantity");
  // the schema is strict about nothing else: unknown keys are stripped by zod, and JSON drops undefined
}

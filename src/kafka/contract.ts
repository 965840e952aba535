import { z } from "zod";
import { CATEGORIES } from "../domain/categories.ts";
import { isLegal } from "../domain/order-status.ts";
import { REGIONS } from "../domain/regions.ts";
import { ORDER_STATUSES, type Order, type OrderStatus, type Product, type StatusChange, type User } from "../domain/types.ts";
import { ShopstreamError } from "../errors.ts";

// The Kafka contract's schemas (docs/design.md, "Kafka contract"): the envelope and each event's
// data, as the consumers validate them (src/kafka/envelope.ts decodes and encodes with them).

export const ENVELOPE_VERSION = 1;

// Dates a shop can hold: nothing before 1990 or after 2100 (a typo'd year is refused, not stored).
const isoDate = z.iso
  .datetime({ offset: true })
  .transform((s) => new Date(s))
  .refine((d) => d.getUTCFullYear() >= 1990 && d.getUTCFullYear() <= 2100, "date outside 1990–2100");
const id = z.string().min(1).max(64);
// ids are born with their kind's prefix (U_, P_, O_): a user id on a product is a mix-up, not data
const idOf = (prefix: IdPrefix) => id.refine((s) => s.startsWith(prefix), `expected an id starting with ${prefix}`);
export type IdPrefix = "U_" | "P_" | "O_";
const text = (max: number) => z.string().max(max);
const krw = z.number().int().nonnegative();
export const category = z.enum(CATEGORIES.map((c) => c.code) as [string, ...string[]]);
export const region = z.enum(REGIONS.map((r) => r.name) as [string, ...string[]]);
export const gender = z.enum(["M", "F"]);
export const ageBand = z.enum(["10s", "20s", "30s", "40s", "50s+"]);
export const paymentMethod = z.enum(["CARD", "NAVER_PAY", "KAKAO_PAY", "BANK_TRANSFER"]);
export const SHIPPING_COSTS = [0, 2500, 3000] as const;

const userSchema = z.object({
  id: idOf("U_"),
  name: text(100).min(1),
  gender: z.enum(["M", "F"]),
  age: z.number().int().min(0).max(130),
  birth_year: z.number().int(),
  address: text(300),
  region,
  email: text(254).regex(/^[^@\s]+@[^@\s]+$/, "expected an e-mail address"),
  grade: z.enum(["BRONZE", "SILVER", "GOLD", "VIP"]),
  status: z.enum(["ACTIVE", "DORMANT"]),
  marketing_opt_in: z.boolean(),
  last_login_at: isoDate.nullable(),
  created_at: isoDate,
  last_ordered_at: isoDate.nullable(),
});

const productSchema = z.object({
  id: idOf("P_"),
  name: text(300).min(1),
  category,
  brand: text(100).min(1),
  original_price: krw,
  price: krw,
  discount_rate: z.number().int().min(0).max(100),
  description: text(4000),
  stock: z.number().int(),
  // numeric(2,1): one decimal, as a shop shows it (the column would round more, silently)
  rating: z
    .number()
    .min(0)
    .max(5)
    .refine((r) => Math.abs(r * 10 - Math.round(r * 10)) < 1e-9, "one decimal at most"),
  review_count: z.number().int().nonnegative(),
  is_best: z.boolean(),
  order_count: z.number().int().nonnegative(),
  created_at: isoDate,
});

const orderSchema = z
  .object({
    id: idOf("O_"),
    user_id: idOf("U_"),
    product_id: idOf("P_"),
    quantity: z.number().int().positive(),
    unit_price: krw,
    shipping_cost: z.union(SHIPPING_COSTS.map((c) => z.literal(c))),
    discount_amount: krw,
    total_amount: z.number().int(),
    payment_method: paymentMethod,
    // an order is born paid; its later statuses travel as order_status_changed events
    status: z.literal("PAID"),
    created_at: isoDate,
    category,
    user_region: region,
    user_gender: gender,
    user_age_band: ageBand,
  })
  .refine((o) => o.total_amount === o.unit_price * o.quantity + o.shipping_cost - o.discount_amount, {
    message: "total_amount must equal unit_price × quantity + shipping_cost − discount_amount",
    path: ["total_amount"],
  })
  .refine((o) => o.discount_amount <= o.unit_price * o.quantity, {
    message: "discount_amount exceeds unit_price × quantity",
    path: ["discount_amount"],
  });

const status = z.enum(ORDER_STATUSES as unknown as [OrderStatus, ...OrderStatus[]]);
// order_status_changed: one step of an order's lifecycle, keyed by the buyer like the order itself
const statusChangeSchema = z
  .object({
    order_id: idOf("O_"),
    from: status,
    to: status,
    at: isoDate,
    reason: text(200).min(1),
  })
  .superRefine((c, ctx) => {
    if (!isLegal(c.from, c.to)) ctx.addIssue({ code: "custom", message: `illegal transition ${c.from} → ${c.to}`, path: ["to"] });
  });

export interface EventKinds {
  users: User;
  products: Product;
  /** An order as it is born, or a later step of its lifecycle. */
  orders: Order | StatusChange;
}

const envelope = <T extends string, S extends z.ZodType>(eventType: T, data: S) =>
  z.object({
    v: z.literal(ENVELOPE_VERSION),
    event_type: z.literal(eventType),
    event_id: z.string().min(1),
    occurred_at: isoDate,
    data,
  });
export const ENVELOPES = {
  users: envelope("user_created", userSchema),
  products: envelope("product_created", productSchema),
  orders: z.discriminatedUnion("event_type", [
    envelope("order_created", orderSchema),
    envelope("order_status_changed", statusChangeSchema),
  ]),
};

/** A record that breaks the contract: never worth retrying, it goes to the dead-letter topic. */
export class InvalidEvent extends ShopstreamError {}

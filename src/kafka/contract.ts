import { z } from "zod";
import { CATEGORIES } from "../domain/categories.ts";
import { CHANNELS, CLICK_TYPES, type Click, DEVICES } from "../domain/clickstream.ts";
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
// ids are born with their kind's prefix (U_, P_, O_, S_ for a session): a user id on a product is a mix-up, not data
const idOf = (prefix: IdPrefix) => id.refine((s) => s.startsWith(prefix), `expected an id starting with ${prefix}`);
export type IdPrefix = "U_" | "P_" | "O_" | "S_";
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
    // born in version 2 of the order schema (docs/design.md, "Schemas"): absent or null before
    coupon_code: text(40).min(1).nullable().optional(),
    // born in version 3: the session the order was placed in (with --clicks), null without one
    session_id: idOf("S_").nullable().optional(),
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

// a page event of a session (src/domain/clickstream.ts), keyed by the session on the clicks topic
const PRODUCT_CLICKS = new Set(["product_view", "add_to_cart", "remove_from_cart"]);
const clickSchema = z
  .object({
    id: id,
    session_id: idOf("S_"),
    seq: z.number().int().nonnegative(),
    type: z.enum(CLICK_TYPES as [string, ...string[]]),
    at: isoDate,
    user_id: idOf("U_").nullable(),
    device: z.enum(DEVICES as [string, ...string[]]),
    channel: z.enum(CHANNELS as [string, ...string[]]),
    region: region.nullable(),
    page: text(500).min(1),
    category: category.nullable(),
    product_id: idOf("P_").nullable(),
    query: text(200).nullable(),
    order_id: idOf("O_").nullable(),
  })
  .refine((c) => c.id === `${c.session_id}/${c.seq}`, { message: "id must be <session_id>/<seq>", path: ["id"] })
  .refine((c) => (c.type === "purchase") === (c.order_id !== null), {
    message: "a purchase carries its order_id, and only a purchase does",
    path: ["order_id"],
  })
  .refine((c) => !PRODUCT_CLICKS.has(c.type) || c.product_id !== null, { message: "this event is about a product", path: ["product_id"] })
  .refine((c) => c.type !== "sign_up" || c.user_id !== null, { message: "a sign_up carries the new customer's id", path: ["user_id"] });

export interface EventKinds {
  users: User;
  products: Product;
  /** An order as it is born, or a later step of its lifecycle. */
  orders: Order | StatusChange;
  clicks: Click;
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
  clicks: envelope("click", clickSchema),
};

/** A record that breaks the contract: never worth retrying, it goes to the dead-letter topic. */
export class InvalidEvent extends ShopstreamError {}

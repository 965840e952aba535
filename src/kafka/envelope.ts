import { z } from "zod";
import { ShopstreamError } from "../errors.ts";
import { CATEGORIES } from "../domain/categories.ts";
import { REGIONS } from "../domain/regions.ts";
import { isLegal, pathTo } from "../domain/lifecycle.ts";
import { ORDER_STATUSES, type Order, type OrderStatus, type Product, type StatusChange, type User } from "../domain/types.ts";
import { integerRanges, ORDERS, PRODUCTS, USERS } from "../db/tables.ts";
import type { EntityTopic } from "./topics.ts";

// The versioned JSON envelope (docs/design.md, "Kafka contract"), validated on both sides.
// decode() (consumers) checks the contract: shape, types, enums, lengths, dates, totals, and names
// the first field that is wrong. encode() (producers) checks that too and, on top, the limits of
// the table columns (smallint/integer ranges, no NUL in text), so a producer never publishes what
// PostgreSQL would refuse. A consumer leaves those limits to the database, whose SQLSTATE then goes
// with the record to the dead-letter topic.

export const ENVELOPE_VERSION = 1;

// Dates a shop can hold: nothing before 1990 or after 2100 (a typo'd year is refused, not stored).
const isoDate = z.iso
  .datetime({ offset: true })
  .transform((s) => new Date(s))
  .refine((d) => d.getUTCFullYear() >= 1990 && d.getUTCFullYear() <= 2100, "date outside 1990–2100");
const id = z.string().min(1).max(64);
// ids are born with their kind's prefix (U_, P_, O_): a user id on a product is a mix-up, not data
const idOf = (prefix: IdPrefix) => id.refine((s) => s.startsWith(prefix), `expected an id starting with ${prefix}`);
type IdPrefix = "U_" | "P_" | "O_";
const text = (max: number) => z.string().max(max);
const krw = z.number().int().nonnegative();
const category = z.enum(CATEGORIES.map((c) => c.code) as [string, ...string[]]);
const region = z.enum(REGIONS.map((r) => r.name) as [string, ...string[]]);
const gender = z.enum(["M", "F"]);
const ageBand = z.enum(["10s", "20s", "30s", "40s", "50s+"]);
const paymentMethod = z.enum(["CARD", "NAVER_PAY", "KAKAO_PAY", "BANK_TRANSFER"]);
const SHIPPING_COSTS = [0, 2500, 3000] as const;

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
const ENVELOPES = {
  users: envelope("user_created", userSchema),
  products: envelope("product_created", productSchema),
  orders: z.discriminatedUnion("event_type", [
    envelope("order_created", orderSchema),
    envelope("order_status_changed", statusChangeSchema),
  ]),
};

/** Whether an orders-topic event is a lifecycle step rather than a new order. */
export function isStatusChange(item: Order | StatusChange): item is StatusChange {
  return "order_id" in item;
}

/** What an event is about: the entity's id, an order's id for its lifecycle steps. */
export function subjectOf(item: EventKinds[EntityTopic]): string {
  return "order_id" in item ? item.order_id : item.id;
}

/** Where an event sits in its subject's history: 0 for its birth, then each lifecycle step by its place on the path. */
export function stageOf(item: EventKinds[EntityTopic]): number {
  return "order_id" in item ? pathTo(item.from).length : 0;
}

function eventTypeOf(entity: EntityTopic, data: EventKinds[EntityTopic]): string {
  if (entity === "users") return "user_created";
  if (entity === "products") return "product_created";
  return isStatusChange(data as Order | StatusChange) ? "order_status_changed" : "order_created";
}

export interface Envelope<T> {
  v: number;
  event_type: string;
  event_id: string;
  occurred_at: Date;
  data: T;
}

/** A record that breaks the contract: never worth retrying, it goes to the dead-letter topic. */
export class InvalidEvent extends ShopstreamError {}

/**
 * Serialises an entity (or an order's lifecycle step) into the envelope, validating it first. The
 * entity id doubles as event id; a lifecycle step's is the order id and the status it reaches.
 */
export function encode<E extends EntityTopic>(entity: E, data: EventKinds[E], occurredAt = new Date()): string {
  // The envelope exactly as it goes on the wire (dates as ISO strings), validated as an object by
  // the consumer's schema: the same verdict as decoding the JSON, without a JSON.parse per event.
  const wire = {
    v: ENVELOPE_VERSION,
    event_type: eventTypeOf(entity, data),
    event_id: "order_id" in data ? `${data.order_id}:${data.to}` : data.id,
    occurred_at: isoOrNull(occurredAt),
    data: datesToIso(data),
  };
  // same rules as the consumer: never publish what would be dead-lettered; a new order, the hot
  // path, by the same rules written as plain checks (held equal to the schema by its tests)
  if (wire.event_type === "order_created") checkOrder(wire.occurred_at, data as Order);
  else check(entity, wire);
  checkColumnLimits(entity, wire.data); // and never what the database would refuse
  return JSON.stringify(wire);
}

// The order schema above as plain checks, for the producer: zod's walk (a copy of the object, a
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
function isShopDate(v: unknown): boolean {
  if (!(v instanceof Date)) return false;
  const year = v.getUTCFullYear(); // NaN for an invalid date
  return year >= 1990 && year <= 2100;
}

function checkOrder(occurredAt: string | null, o: Order): void {
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
  if (o.total_amount !== o.unit_price * o.quantity + o.shipping_cost - o.discount_amount)
    wrong("data.total_amount", "total_amount must equal unit_price × quantity + shipping_cost − discount_amount");
  if (o.discount_amount > o.unit_price * o.quantity) wrong("data.discount_amount", "discount_amount exceeds unit_price × quantity");
  // the schema is strict about nothing else: unknown keys are stripped by zod, and JSON drops undefined
}

// JSON.stringify writes a Date as its ISO string (an invalid one as null); the copy does the same
// so that the object validated is the object serialised.
function datesToIso(data: object): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k in data) {
    const v = (data as Record<string, unknown>)[k];
    out[k] = v instanceof Date ? isoOrNull(v) : v;
  }
  return out;
}

function isoOrNull(d: Date): string | null {
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}

function check(entity: EntityTopic, raw: unknown): Envelope<unknown> {
  const parsed = ENVELOPES[entity].safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const path = issue?.path.join(".") || "(root)";
    throw new InvalidEvent(`${path}: ${issue?.message ?? "invalid"}`);
  }
  return parsed.data as unknown as Envelope<unknown>;
}

// Strict: a byte sequence that is not UTF-8 is refused, not stored with U+FFFD in its place
const UTF8 = new TextDecoder("utf-8", { fatal: true });

/** The bytes as UTF-8 text, or null when they are not valid UTF-8. */
export function utf8OrNull(bytes: Uint8Array): string | null {
  try {
    return UTF8.decode(bytes);
  } catch {
    return null;
  }
}

/** Parses and validates one message value; throws InvalidEvent with the reason. */
export function decode<E extends EntityTopic>(entity: E, value: string | Buffer | null): Envelope<EventKinds[E]> {
  if (value === null) throw new InvalidEvent("empty message value");
  const text = typeof value === "string" ? value : utf8OrNull(value);
  if (text === null) throw new InvalidEvent("value is not valid UTF-8");
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new InvalidEvent("value is not JSON");
  }
  return check(entity, raw) as Envelope<EventKinds[E]>;
}

// The integer columns' ranges, from the tables' own column types (src/db/tables.ts); every other
// number column is bigint or numeric and the contract already bounds it.
const COLUMN_RANGES: Record<EntityTopic, Record<string, readonly [number, number]>> = {
  users: integerRanges(USERS),
  products: integerRanges(PRODUCTS),
  orders: integerRanges(ORDERS),
};

function checkColumnLimits(entity: EntityTopic, data: Record<string, unknown>): void {
  // plain loops: on the producer's hot path, Object.entries' arrays cost more than the checks
  const ranges = COLUMN_RANGES[entity];
  for (const field in ranges) {
    const [min, max] = ranges[field] as readonly [number, number];
    const v = data[field] as number;
    if (v < min || v > max) throw new InvalidEvent(`data.${field}: ${v} is outside the column's range ${min}..${max}`);
  }
  for (const field in data) {
    const v = data[field];
    if (typeof v === "string" && v.includes("\u0000")) throw new InvalidEvent(`data.${field}: text holds a NUL character`);
  }
}

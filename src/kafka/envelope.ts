import { pathTo } from "../domain/order-status.ts";
import type { Order, StatusChange } from "../domain/types.ts";
import { CLICK_EVENTS, integerRanges, ORDERS, PRODUCTS, USERS } from "../db/tables.ts";
import { ENVELOPE_VERSION, ENVELOPES, type EventKinds, InvalidEvent } from "./contract.ts";
import { checkOrder } from "./order-check.ts";
import type { EntityTopic } from "./topics.ts";

// The versioned JSON envelope (docs/design.md, "Kafka contract"; its schemas: contract.ts),
// validated on both sides.
// decode() (consumers) checks the contract: shape, types, enums, lengths, dates, totals, and names
// the first field that is wrong. encode() (producers) checks that too and, on top, the limits of
// the table columns (smallint/integer ranges, no NUL in text), so a producer never publishes what
// PostgreSQL would refuse. A consumer leaves those limits to the database, whose SQLSTATE then goes
// with the record to the dead-letter topic.

/** Whether an event is an order's lifecycle step (the one kind with a `from` and a `to`). */
export function isStatusChange(item: object): item is StatusChange {
  return "to" in item && "from" in item;
}

/** What an event is about: the entity's id (a click's own), an order's id for its lifecycle steps. */
export function subjectOf(item: EventKinds[EntityTopic]): string {
  return isStatusChange(item) ? item.order_id : item.id;
}

/** Where an event sits in its subject's history: 0 for its birth, then each lifecycle step by its place on the path. */
export function stageOf(item: EventKinds[EntityTopic]): number {
  return isStatusChange(item) ? pathTo(item.from).length : 0;
}

/** The event id (docs/design.md, "Kafka contract"): an entity's or a click's id, a lifecycle step's `<order id>:<status>`. */
export function eventIdOf(item: EventKinds[EntityTopic]): string {
  return isStatusChange(item) ? `${item.order_id}:${item.to}` : item.id;
}

function eventTypeOf(entity: EntityTopic, data: EventKinds[EntityTopic]): string {
  if (entity === "users") return "user_created";
  if (entity === "products") return "product_created";
  if (entity === "clicks") return "click";
  return isStatusChange(data) ? "order_status_changed" : "order_created";
}

export interface Envelope<T> {
  v: number;
  event_type: string;
  event_id: string;
  occurred_at: Date;
  data: T;
}

/**
 * Serialises an entity (or an order's lifecycle step) into the JSON envelope, validating it first.
 * The entity id doubles as event id; a lifecycle step's is the order id and the status it reaches.
 */
export function encode<E extends EntityTopic>(entity: E, data: EventKinds[E], occurredAt = new Date()): string {
  return JSON.stringify(wireOf(entity, data, occurredAt));
}

/**
 * The envelope exactly as it goes on the wire in any format (dates as ISO strings), validated: the
 * same verdict as the consumer's schema, without a JSON.parse per event.
 */
export function wireOf<E extends EntityTopic>(entity: E, data: EventKinds[E], occurredAt = new Date()): Record<string, unknown> {
  const wire = {
    v: ENVELOPE_VERSION,
    event_type: eventTypeOf(entity, data),
    event_id: eventIdOf(data),
    occurred_at: isoOrNull(occurredAt),
    data: datesToIso(data),
  };
  // same rules as the consumer: never publish what would be dead-lettered; a new order, the hot
  // path, by the same rules written as plain checks (held equal to the schema by its tests)
  if (wire.event_type === "order_created") checkOrder(wire.occurred_at, data as Order);
  else check(entity, wire);
  checkColumnLimits(entity, wire.data); // and never what the database would refuse
  return wire;
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

/**
 * Reads a value framed for a schema registry (src/schemas/reader.ts): its schema must have been
 * fetched already; a fault of the record is an InvalidEvent.
 */
export interface FramedReader {
  read(value: Buffer): unknown;
}

/**
 * Parses and validates one message value, plain JSON or (with a reader) framed for a schema
 * registry in any format; throws InvalidEvent with the reason.
 */
export function decode<E extends EntityTopic>(entity: E, value: string | Buffer | null, framed?: FramedReader): Envelope<EventKinds[E]> {
  if (value === null) throw new InvalidEvent("empty message value");
  if (typeof value !== "string" && value.length > 0 && value[0] === 0) {
    if (!framed) throw new InvalidEvent("value is framed for a schema registry (magic byte 0) and this reader has none");
    return check(entity, framed.read(value)) as Envelope<EventKinds[E]>; // read() refuses a value too short for its frame
  }
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
  clicks: integerRanges(CLICK_EVENTS),
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

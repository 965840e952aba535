// The year's writes: orders streamed into one COPY per simulated week while the next day is being
// generated, sign-ups COPYed before the orders that name them.
import type { Sql } from "../db/client.ts";
import { type CopyValue, copyRows, encodeRow } from "../db/copy.ts";
import { CLICK_EVENTS, columnNames, ORDERS, PRODUCTS, rowValues, type TableSpec, USERS } from "../db/tables.ts";
import type { Click, Session } from "../domain/clickstream.ts";
import type { Transition } from "../lifecycle/plan.ts";
import type { Order, OrderStatus, Product, User } from "../domain/types.ts";

export const SOURCE = "historical";
/** The lifecycle's columns after ORDERS' own: when the order reached each status within the period. */
const LIFECYCLE_COLUMNS = ["shipped_at", "delivered_at", "cancelled_at", "refunded_at"] as const;
export const ORDER_COPY_COLUMNS: readonly string[] = [...columnNames(ORDERS), ...LIFECYCLE_COLUMNS, "source"];
export const EVENT_COPY_COLUMNS: readonly string[] = ["order_id", "from_status", "to_status", "at", "reason", "source"];

// orderCopyLine writes the columns by hand (the generic encoder costs ~1.8 µs a row, a million rows
// a year); this refuses to load if ORDERS ever lists them differently.
const HAND_ORDER =
  "id,user_id,product_id,quantity,unit_price,shipping_cost,discount_amount,total_amount,payment_method,status,created_at,category,user_region,user_gender,user_age_band,coupon_code,session_id";
if (columnNames(ORDERS).join(",") !== HAND_ORDER) throw new Error("src/historical/writer.ts: ORDERS columns changed; update orderCopyLine");
const UNSAFE = /[\\\t\n\r]/;

/**
 * One order as a line of COPY text, equal to encodeRow(rowValues(ORDERS, o) + its lifecycle within
 * the period + source): the status it reached and when it reached each; no coupon (the year is
 * written as version 1 of the order schema); with --clicks, the session it was placed in. Ids,
 * enums and numbers never need escaping; the region comes from the database, so it is checked.
 */
export function orderCopyLine(o: Order, done: readonly Transition[], sessionId?: string): string {
  if (UNSAFE.test(o.user_region)) throw new Error(`region of order ${o.id} contains a control character`);
  const status = done.length ? (done[done.length - 1] as Transition).to : o.status;
  const when = (to: OrderStatus) => done.find((t) => t.to === to)?.at.toISOString() ?? "\\N";
  return `${o.id}\t${o.user_id}\t${o.product_id}\t${o.quantity}\t${o.unit_price}\t${o.shipping_cost}\t${o.discount_amount}\t${o.total_amount}\t${o.payment_method}\t${status}\t${o.created_at.toISOString()}\t${o.category}\t${o.user_region}\t${o.user_gender}\t${o.user_age_band}\t\\N\t${sessionId ?? "\\N"}\t${when("SHIPPED")}\t${when("DELIVERED")}\t${when("CANCELLED")}\t${when("REFUNDED")}\t${SOURCE}\n`;
}

/** The order's transitions within the period as lines of COPY text for order_events. */
export function eventCopyLines(orderId: string, done: readonly Transition[]): string {
  let text = "";
  for (const t of done) text += `${orderId}\t${t.from}\t${t.to}\t${t.at.toISOString()}\t${t.reason}\t${SOURCE}\n`;
  return text;
}

export const CLICK_COPY_COLUMNS: readonly string[] = [...columnNames(CLICK_EVENTS), "source"];
export const SESSION_COPY_COLUMNS: readonly string[] = [
  "id",
  "user_id",
  "device",
  "channel",
  "region",
  "category",
  "started_at",
  "ended_at",
  "events",
  "reached",
  "order_id",
  "source",
];

/** The clicks of an order's sessions as lines of COPY text for click_events. */
export function clickCopyLines(clicks: readonly Click[]): string {
  let text = "";
  for (const c of clicks) text += encodeRow([...(rowValues(CLICK_EVENTS, c) as CopyValue[]), SOURCE]);
  return text;
}

/** Sessions (folded from their clicks) as lines of COPY text for sessions. */
export function sessionCopyLines(sessions: readonly Session[]): string {
  let text = "";
  for (const s of sessions)
    text += encodeRow([
      s.id,
      s.user_id,
      s.device,
      s.channel,
      s.region,
      s.category,
      s.started_at,
      s.ended_at,
      s.events,
      s.reached,
      s.order_id,
      SOURCE,
    ]);
  return text;
}

/** Rows of a table COPYed as historical ones (`source = 'historical'`, which --reset removes). */
async function copyHistorical<T>(sql: Sql, spec: TableSpec<T>, rows: readonly T[]): Promise<number> {
  if (rows.length === 0) return 0;
  return copyRows(
    sql,
    spec.name,
    [...columnNames(spec), "source"],
    rows.map((r) => [...(rowValues(spec, r) as CopyValue[]), SOURCE]),
  );
}

export const copyUsers = (sql: Sql, users: readonly User[]) => copyHistorical(sql, USERS, users);
export const copyProducts = (sql: Sql, products: readonly Product[]) => copyHistorical(sql, PRODUCTS, products);

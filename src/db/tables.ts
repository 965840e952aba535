import type { Click } from "../domain/clickstream.ts";
import type { Order, Product, User } from "../domain/types.ts";

/**
 * A table's writable columns with their PostgreSQL types, as the migrations create them (a test
 * holds the two equal): one definition serves unnest, COPY and the limits producers check before
 * publishing (INTEGER_RANGES).
 */
export interface TableSpec<T> {
  name: string;
  columns: readonly (readonly [column: keyof T & string, pgType: string])[];
  /**
   * Columns fixed at birth: a redelivered record must match them, or it is a different record
   * under a reused id. (Columns the pipeline itself advances, such as grade or order_count, and
   * order status, which its lifecycle changes, are left out.)
   */
  identity: readonly (keyof T & string)[];
}

export const USERS: TableSpec<User> = {
  name: "users",
  columns: [
    ["id", "text"],
    ["name", "text"],
    ["gender", "text"],
    ["age", "smallint"],
    ["birth_year", "smallint"],
    ["address", "text"],
    ["region", "text"],
    ["email", "text"],
    ["grade", "text"],
    ["status", "text"],
    ["marketing_opt_in", "bool"],
    ["last_login_at", "timestamptz"],
    ["created_at", "timestamptz"],
    ["last_ordered_at", "timestamptz"],
  ],
  identity: ["name", "gender", "age", "birth_year", "address", "region", "email", "marketing_opt_in", "created_at"],
};

export const PRODUCTS: TableSpec<Product> = {
  name: "products",
  columns: [
    ["id", "text"],
    ["name", "text"],
    ["category", "text"],
    ["brand", "text"],
    ["original_price", "integer"],
    ["price", "integer"],
    ["discount_rate", "smallint"],
    ["description", "text"],
    ["stock", "integer"],
    ["rating", "numeric"],
    ["review_count", "integer"],
    ["is_best", "bool"],
    ["order_count", "integer"],
    ["created_at", "timestamptz"],
  ],
  identity: ["name", "category", "brand", "original_price", "price", "discount_rate", "created_at"],
};

export const ORDERS: TableSpec<Order> = {
  name: "orders",
  columns: [
    ["id", "text"],
    ["user_id", "text"],
    ["product_id", "text"],
    ["quantity", "smallint"],
    ["unit_price", "integer"],
    ["shipping_cost", "integer"],
    ["discount_amount", "integer"],
    ["total_amount", "bigint"],
    ["payment_method", "text"],
    ["status", "text"],
    ["created_at", "timestamptz"],
    ["category", "text"],
    ["user_region", "text"],
    ["user_gender", "text"],
    ["user_age_band", "text"],
    ["coupon_code", "text"],
    ["session_id", "text"],
  ],
  identity: [
    "user_id",
    "product_id",
    "quantity",
    "unit_price",
    "shipping_cost",
    "discount_amount",
    "total_amount",
    "payment_method",
    "created_at",
    "category",
    "user_region",
    "user_gender",
    "user_age_band",
  ],
};

/** A page event of the clicks topic; its session's row (table sessions) is folded from its events. */
export const CLICK_EVENTS: TableSpec<Click> = {
  name: "click_events",
  columns: [
    ["id", "text"],
    ["session_id", "text"],
    ["seq", "smallint"],
    ["type", "text"],
    ["at", "timestamptz"],
    ["user_id", "text"],
    ["device", "text"],
    ["channel", "text"],
    ["region", "text"],
    ["page", "text"],
    ["category", "text"],
    ["product_id", "text"],
    ["query", "text"],
    ["order_id", "text"],
  ],
  identity: [
    "session_id",
    "seq",
    "type",
    "at",
    "user_id",
    "device",
    "channel",
    "region",
    "page",
    "category",
    "product_id",
    "query",
    "order_id",
  ],
};

export function columnNames<T>(spec: TableSpec<T>): string[] {
  return spec.columns.map(([c]) => c);
}

/** Row values in column order, for COPY. */
export function rowValues<T>(spec: TableSpec<T>, row: T): T[keyof T][] {
  return spec.columns.map(([c]) => row[c]);
}

/** The range of each integer column type the tables use. */
export const INTEGER_RANGES: Readonly<Record<string, readonly [min: number, max: number]>> = {
  smallint: [-32768, 32767],
  integer: [-2147483648, 2147483647],
};

/** The table's columns of a bounded integer type, with their ranges. */
export function integerRanges<T>(spec: TableSpec<T>): Record<string, readonly [number, number]> {
  const out: Record<string, readonly [number, number]> = {};
  for (const [column, type] of spec.columns) {
    const range = INTEGER_RANGES[type];
    if (range) out[column] = range;
  }
  return out;
}

import type { Order, Product, User } from "../domain/types.ts";

/** A table's writable columns with their PostgreSQL types: one definition serves unnest and COPY. */
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
    ["age", "int"],
    ["birth_year", "int"],
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
    ["original_price", "int"],
    ["price", "int"],
    ["discount_rate", "int"],
    ["description", "text"],
    ["stock", "int"],
    ["rating", "numeric"],
    ["review_count", "int"],
    ["is_best", "bool"],
    ["order_count", "int"],
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
    ["quantity", "int"],
    ["unit_price", "int"],
    ["shipping_cost", "int"],
    ["discount_amount", "int"],
    ["total_amount", "bigint"],
    ["payment_method", "text"],
    ["status", "text"],
    ["created_at", "timestamptz"],
    ["category", "text"],
    ["user_region", "text"],
    ["user_gender", "text"],
    ["user_age_band", "text"],
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

export function columnNames<T>(spec: TableSpec<T>): string[] {
  return spec.columns.map(([c]) => c);
}

/** Row values in column order, for COPY. */
export function rowValues<T>(spec: TableSpec<T>, row: T): T[keyof T][] {
  return spec.columns.map(([c]) => row[c]);
}

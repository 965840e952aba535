// The formats values can be written in and the versions of each topic's schema, as plain names:
// configuration reads them, src/schemas/ gives them their meaning (docs/design.md, "Schemas").

/** JSON without a schema (the default), or one of the three a schema registry knows. */
export const FORMATS = ["json", "avro", "protobuf", "jsonschema"] as const;
export type Format = (typeof FORMATS)[number];
export type RegistryFormat = Exclude<Format, "json">;

/** The versions of each topic's schema; the last is the newest. */
export const SCHEMA_VERSIONS: Readonly<Record<"users" | "products" | "orders" | "clicks", readonly number[]>> = {
  users: [1],
  clicks: [1],
  products: [1],
  orders: [1, 2, 3],
};

/** The order fields born after version 1, with the version that brought each. */
export const ORDER_FIELDS_BORN_IN = { coupon_code: 2, session_id: 3 } as const;

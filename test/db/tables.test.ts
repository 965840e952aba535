import { afterAll, beforeAll, expect, test } from "bun:test";
import { CLICK_EVENTS, INTEGER_RANGES, ORDERS, PRODUCTS, type TableSpec, USERS } from "../../src/db/tables.ts";
import { createTestDatabase, type TestDatabase } from "../../support/db.ts";

// The tables' column types are stated in the migrations and mirrored once in src/db/tables.ts,
// from which unnest casts and the producers' column limits are derived: the two must agree.

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase("tables");
});
afterAll(async () => {
  await db.drop();
});

// text is the cast for every text-like column (a char(1) takes a text value as it is)
const TEXT_LIKE = ["text", "character", "character varying"];
const AS_INFORMATION_SCHEMA: Record<string, string> = {
  smallint: "smallint",
  integer: "integer",
  bigint: "bigint",
  numeric: "numeric",
  bool: "boolean",
  timestamptz: "timestamp with time zone",
};

test("every column of users, products, orders and click_events has the type the migrations give it", async () => {
  for (const spec of [USERS, PRODUCTS, ORDERS, CLICK_EVENTS] as TableSpec<unknown>[]) {
    const rows = await db.sql<{ column_name: string; data_type: string }[]>`
      select column_name, data_type from information_schema.columns where table_schema = 'public' and table_name = ${spec.name}`;
    const actual = new Map(rows.map((r) => [r.column_name, r.data_type]));
    for (const [column, type] of spec.columns) {
      const found = actual.get(column) ?? "missing";
      if (type === "text") expect([spec.name, column, TEXT_LIKE.includes(found)]).toEqual([spec.name, column, true]);
      else expect([spec.name, column, found]).toEqual([spec.name, column, AS_INFORMATION_SCHEMA[type] ?? `unmapped ${type}`]);
    }
  }
});

test("the integer ranges are PostgreSQL's own", async () => {
  for (const [type, [min, max]] of Object.entries(INTEGER_RANGES)) {
    const [ok] = await db.sql.unsafe(`select (${min})::${type} as min, (${max})::${type} as max`);
    expect([Number(ok!.min), Number(ok!.max)]).toEqual([min, max]);
    await expect(db.sql.unsafe(`select (${max + 1})::${type}`)).rejects.toThrow(/out of range/);
  }
});

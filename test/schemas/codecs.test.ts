import { describe, expect, test } from "bun:test";
import { type Click, Clickstream } from "../../src/domain/clickstream.ts";
import { couponFor } from "../../src/domain/coupons.ts";
import { generateProducts, generateUsers } from "../../src/domain/fake.ts";
import { OrderGenerator } from "../../src/domain/order-generator.ts";
import { Rng } from "../../src/domain/random.ts";
import { SCENARIOS } from "../../src/domain/scenarios.ts";
import type { Order, StatusChange } from "../../src/domain/types.ts";
import { InvalidEvent } from "../../src/kafka/contract.ts";
import { decode, type FramedReader, wireOf } from "../../src/kafka/envelope.ts";
import type { EntityTopic } from "../../src/kafka/topics.ts";
import { avroSchemaOf } from "../../src/schemas/avro.ts";
import { DATE_FIELDS, eventShapes, jsonSchemaOf } from "../../src/schemas/definitions.ts";
import { codecFor, SCHEMA_TYPE, schemaText } from "../../src/schemas/formats.ts";
import { protoSchemaOf } from "../../src/schemas/protobuf.ts";
import { ORDER_FIELDS_BORN_IN, SCHEMA_VERSIONS } from "../../src/schema-formats.ts";
import { frame, framedPayload } from "../../src/schemas/wire-codec.ts";

// The registry formats, without a registry: every event the generators draw goes through each
// format's codec (from the schema text a producer registers) and decodes to the same event as its
// JSON does; the schemas are the contract's (no field missing, none invented), and version 2 of the
// order schema only adds its optional field at the end.

const NOW = new Date("2026-03-10T11:00:00Z");
const users = generateUsers(new Rng("fmt-users"), 300, NOW);
const products = generateProducts(new Rng("fmt-products"), 300, NOW);
const orders: Order[] = SCENARIOS.flatMap((scenario) => {
  const gen = new OrderGenerator(new Rng(`fmt:${scenario.id}`), 200);
  gen.refresh(users, products, NOW, scenario);
  return Array.from({ length: 30 }, () => gen.next(NOW));
});
const steps: StatusChange[] = orders.slice(0, 50).map((o, i) => ({
  order_id: o.id,
  from: "PAID",
  to: i % 2 ? "SHIPPED" : "CANCELLED",
  at: new Date(NOW.getTime() + i * 1000),
  reason: "테스트 사유",
}));
// the sessions behind a few hundred orders: every kind of page event, signed in and anonymous
const stream = new Clickstream();
stream.setCatalogue(users, products);
const clicks = orders.slice(0, 40).flatMap((o, i) => stream.forOrder(new Rng(`fmt-clicks:${i}`), o, SCENARIOS[0]!).clicks);
const EVENTS: { entity: EntityTopic; items: object[] }[] = [
  { entity: "users", items: users },
  { entity: "products", items: products },
  {
    entity: "orders",
    items: [
      ...orders,
      ...orders.map((o) => ({ ...o, coupon_code: couponFor(o) })),
      ...orders.map((o, i) => ({ ...o, coupon_code: couponFor(o), session_id: (clicks[i % clicks.length] as Click).session_id })),
      ...steps,
    ],
  },
  { entity: "clicks", items: clicks },
];

/** A reader over one schema, as a consumer holds it after fetching the writer's schema by id. */
function readerOf(codec: ReturnType<typeof codecFor>): FramedReader {
  return { read: (value) => codec.decode(framedPayload(value)) };
}

/** An absent coupon or session and a null one are the same fact (a schema's default fills in the null). */
function couponAsNull<T extends { event_type: string; data: object }>(e: T): T {
  return e.event_type === "order_created" ? { ...e, data: { coupon_code: null, session_id: null, ...e.data } } : e;
}

/** An order as a producer at `version` writes it: the fields born later stripped (src/schemas/serializer.ts). */
function atVersion(item: object, version: number): object {
  const later = Object.entries(ORDER_FIELDS_BORN_IN).filter(([field, born]) => born > version && field in item);
  return later.length ? { ...item, ...Object.fromEntries(later.map(([field]) => [field, undefined])) } : item;
}

for (const format of ["avro", "protobuf", "jsonschema"] as const) {
  describe(format, () => {
    test("every drawn event, at every version, decodes to what its JSON decodes to", () => {
      let checked = 0;
      for (const { entity, items } of EVENTS)
        for (const version of entity === "orders" ? SCHEMA_VERSIONS.orders : [1]) {
          const codec = codecFor(SCHEMA_TYPE[format], schemaText(format, entity, version));
          const reader = readerOf(codec);
          for (const item of items) {
            const data = entity === "orders" ? atVersion(item, version) : item;
            const wire = wireOf(entity, data as never, NOW);
            const framed = frame(7, codec.encode(wire), codec.prefix);
            expect(couponAsNull(decode(entity, framed, reader))).toEqual(couponAsNull(decode(entity, JSON.stringify(wire))));
            checked++;
          }
        }
      expect(checked).toBe(users.length + products.length + 3 * (orders.length * 3 + steps.length) + clicks.length);
    });
  });
}

test("the schemas hold the contract's fields, in its order; versions 2 and 3 of orders add coupon_code and session_id, optional, at the end", () => {
  for (const entity of ["users", "products", "orders"] as const) {
    const shapes = eventShapes(entity, 1);
    const avro = avroSchemaOf(entity, 1) as { fields: { name: string; type: unknown }[] };
    const dataType = avro.fields.find((f) => f.name === "data")?.type;
    const records = (Array.isArray(dataType) ? dataType : [dataType]) as { name: string; fields: { name: string }[] }[];
    expect(records.map((r) => r.name)).toEqual(shapes.map((s) => s.name));
    for (const [i, shape] of shapes.entries())
      expect(records[i]?.fields.map((f) => f.name)).toEqual(Object.keys(shape.data.properties ?? {}));
  }
  const v1 = Object.keys(eventShapes("orders", 1)[0]?.data.properties ?? {});
  const v2 = Object.keys(eventShapes("orders", 2)[0]?.data.properties ?? {});
  const v3 = Object.keys(eventShapes("orders", 3)[0]?.data.properties ?? {});
  expect(v2).toEqual([...v1, "coupon_code"]);
  expect(v3).toEqual([...v2, "session_id"]);
  expect(protoSchemaOf("orders", 2)).toContain(`optional string coupon_code = ${v1.length + 1};`);
  expect(protoSchemaOf("orders", 3)).toContain(`optional string session_id = ${v1.length + 2};`);
  expect(protoSchemaOf("orders", 1)).not.toContain("coupon_code");
  expect(protoSchemaOf("orders", 2)).not.toContain("session_id");
  const json = jsonSchemaOf("orders", 3) as { oneOf: { properties: { data: { required: string[] } } }[] };
  expect(json.oneOf[0]?.properties.data.required).not.toContain("coupon_code");
  expect(json.oneOf[0]?.properties.data.required).not.toContain("session_id");
  expect([...DATE_FIELDS].sort()).toEqual(["at", "created_at", "last_login_at", "last_ordered_at"]);
});

test("a framed value without a reader, a Protobuf value naming another message, and bytes that are not the schema's are refused with the reason", () => {
  const order = orders[0] as Order;
  const wire = wireOf("orders", order, NOW);
  const codec = codecFor("PROTOBUF", protoSchemaOf("orders", 1));
  const framed = frame(3, codec.encode(wire), codec.prefix);
  expect(() => decode("orders", framed)).toThrow(InvalidEvent);
  expect(() => decode("orders", framed)).toThrow(/framed for a schema registry/);
  const otherMessage = frame(3, codec.encode(wire), Uint8Array.of(2, 2));
  expect(() => decode("orders", otherMessage, readerOf(codec))).toThrow(/message \[1\]/);
  const avro = codecFor("AVRO", JSON.stringify(avroSchemaOf("orders", 1)));
  const truncated = frame(5, avro.encode(wire).subarray(0, 20));
  expect(() => decode("orders", truncated, readerOf(avro))).toThrow();
});

import avro from "avsc";
import { InvalidEvent } from "../kafka/contract.ts";
import type { EntityTopic } from "../kafka/topics.ts";
import { eventShapes, type JsonNode, pascal } from "./definitions.ts";
import type { WireCodec, WireObject } from "./wire-codec.ts";

// Avro, written from the contract's JSON Schema (definitions.ts). Dates are timestamp-millis, as
// Kafka Connect and Flink read them; a topic with several event kinds (orders) holds its data in a
// union of their records. Integers are long, enums strings (Avro enum symbols cannot be Hangul).

const NAMESPACE = "shopstream";

/** The Avro schema of a topic's envelope at a version of its schema. */
export function avroSchemaOf(entity: EntityTopic, version: number): avro.Schema {
  const shapes = eventShapes(entity, version);
  const records = shapes.map((s) => record(s.name, s.data));
  return {
    type: "record",
    name: `${pascal(entity)}Event`,
    namespace: NAMESPACE,
    fields: [
      { name: "v", type: "int" },
      { name: "event_type", type: "string" },
      { name: "event_id", type: "string" },
      { name: "occurred_at", type: TIMESTAMP },
      { name: "data", type: records.length === 1 ? records[0] : records },
    ],
  } as avro.Schema;
}

const TIMESTAMP = { type: "long", logicalType: "timestamp-millis" };

function record(name: string, node: JsonNode): object {
  const required = new Set(node.required ?? []);
  const fields = Object.entries(node.properties ?? {}).map(([field, n]) => {
    const type = avroType(`${name}_${field}`, n);
    const nullable = Array.isArray(type) && type[0] === "null";
    if (required.has(field) || nullable) return nullable ? { name: field, type, default: null } : { name: field, type };
    return { name: field, type: ["null", type], default: null };
  });
  return { type: "record", name, fields };
}

function avroType(name: string, n: JsonNode): unknown {
  if (n.anyOf) {
    const other = n.anyOf.filter((b) => b.type !== "null");
    if (other.length < n.anyOf.length) return ["null", avroType(name, other.length === 1 ? (other[0] as JsonNode) : { anyOf: other })];
    if (other.every((b) => Number.isInteger(b.const))) return "long"; // a set of allowed amounts (shipping_cost)
  }
  if (n.type === "string") return n.format === "date-time" ? TIMESTAMP : "string";
  if (n.type === "integer") return "long";
  if (n.type === "number") return Number.isInteger(n.const) ? "long" : "double";
  if (n.type === "boolean") return "boolean";
  if (n.type === "object") return record(pascal(name), n);
  throw new Error(`no Avro type for ${name}: ${JSON.stringify(n)}`);
}

/** timestamp-millis read and written as the ISO strings of the wire object the contract validates. */
class IsoTimestamp extends avro.types.LogicalType {
  override _fromValue(ms: number): string {
    return new Date(ms).toISOString();
  }
  override _toValue(iso: unknown): number | undefined {
    return typeof iso === "string" ? Date.parse(iso) : undefined;
  }
  override _resolve(type: avro.Type) {
    if (avro.Type.isType(type, "long", "logical:timestamp-millis")) return this._fromValue.bind(this);
    return undefined;
  }
}

/** Encodes and decodes wire objects with one Avro schema (a writer's, on the consumer's side). */
export function avroCodec(schema: avro.Schema | string): WireCodec {
  const type = avro.Type.forSchema(typeof schema === "string" ? JSON.parse(schema) : schema, {
    logicalTypes: { "timestamp-millis": IsoTimestamp },
    wrapUnions: "auto",
  });
  const dataField = (type as avro.types.RecordType).field("data");
  const union = dataField && avro.Type.isType(dataField.type, "union:wrapped");
  const branchOf = new Map<string, string>();
  if (union)
    for (const t of (dataField.type as avro.types.WrappedUnionType).types)
      branchOf.set(snake((t.name ?? "").replace(`${NAMESPACE}.`, "")), t.name as string);
  return {
    encode(wire: WireObject): Buffer {
      if (!union) return type.toBuffer(wire);
      const branch = branchOf.get(wire.event_type as string);
      return type.toBuffer({ ...wire, data: branch ? { [branch]: wire.data } : wire.data });
    },
    decode(payload: Buffer): WireObject {
      const value = type.fromBuffer(payload) as WireObject;
      let data = value.data as Record<string, unknown>;
      if (union) data = data[Object.keys(data)[0] as string] as Record<string, unknown>;
      refuseReplacedText(data, payload);
      return union ? { ...value, data } : value;
    },
  };
}

const REPLACEMENT_BYTES = Buffer.from("\uFFFD");

/**
 * avsc reads strings leniently: bytes that are not UTF-8 come out as U+FFFD. A decoded string that
 * holds one, from a value whose bytes hold none, was not UTF-8: refused, as plain JSON's would be.
 */
function refuseReplacedText(data: Record<string, unknown>, payload: Buffer): void {
  for (const k in data) {
    const v = data[k];
    if (typeof v === "string" && v.includes("\uFFFD") && !payload.includes(REPLACEMENT_BYTES))
      throw new InvalidEvent(`data.${k}: not valid UTF-8 (Avro string)`);
  }
}

/** OrderCreated → order_created. */
function snake(pascalName: string): string {
  return pascalName.replace(/[A-Z]/g, (c, i: number) => (i === 0 ? c.toLowerCase() : `_${c.toLowerCase()}`));
}

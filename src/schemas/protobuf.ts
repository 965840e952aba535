import protobuf from "protobufjs";
import { InvalidEvent } from "../kafka/contract.ts";
import type { EntityTopic } from "../kafka/topics.ts";
import { DATE_FIELDS, type EventShape, eventShapes, type JsonNode, pascal } from "./definitions.ts";
import type { WireCodec, WireObject } from "./wire-codec.ts";

// Protobuf (proto3), written from the contract's JSON Schema (definitions.ts): the envelope is the
// file's first message, so its Confluent message index is the single byte 0; a topic with several
// event kinds holds its data in a oneof. Dates are int64 milliseconds since the epoch (UTC), a
// nullable field is `optional`. Field numbers follow the contract's order: a field is only ever
// added at the end, so numbers never move between versions.

/** The .proto text of a topic's envelope at a version of its schema. */
export function protoSchemaOf(entity: EntityTopic, version: number): string {
  const shapes = eventShapes(entity, version);
  const data =
    shapes.length === 1
      ? `  ${(shapes[0] as EventShape).name} data = 5;\n`
      : `  oneof data {\n${shapes.map((s, i) => `    ${s.name} ${s.eventType} = ${5 + i};\n`).join("")}  }\n`;
  const envelope = `message ${pascal(entity)}Event {\n  int32 v = 1;\n  string event_type = 2;\n  string event_id = 3;\n  int64 occurred_at = 4;\n${data}}\n`;
  const messages = shapes.map((s) => message(s.name, s.data)).join("\n");
  return `syntax = "proto3";\npackage shopstream;\n\n// dates: int64 milliseconds since the Unix epoch (UTC)\n${envelope}\n${messages}`;
}

function message(name: string, node: JsonNode): string {
  const required = new Set(node.required ?? []);
  const lines = Object.entries(node.properties ?? {}).map(([field, n], i) => {
    const { type, nullable } = protoType(n);
    const optional = nullable || !required.has(field) ? "optional " : "";
    return `  ${optional}${type} ${field} = ${i + 1};\n`;
  });
  return `message ${name} {\n${lines.join("")}}\n`;
}

function protoType(n: JsonNode): { type: string; nullable: boolean } {
  if (n.anyOf) {
    const other = n.anyOf.filter((b) => b.type !== "null");
    if (other.length < n.anyOf.length) return { type: protoType(other[0] as JsonNode).type, nullable: true };
    if (other.every((b) => Number.isInteger(b.const))) return { type: "int64", nullable: false };
  }
  const type =
    n.type === "string"
      ? n.format === "date-time"
        ? "int64"
        : "string"
      : n.type === "integer" || (n.type === "number" && Number.isInteger(n.const))
        ? "int64"
        : n.type === "number"
          ? "double"
          : n.type === "boolean"
            ? "bool"
            : null;
  if (type === null) throw new Error(`no Protobuf type for ${JSON.stringify(n)}`);
  return { type, nullable: false };
}

/** Confluent's message indexes for the file's first message: the single byte 0. */
const FIRST_MESSAGE = Uint8Array.of(0);

/** How one field of a data message maps to the wire object. */
interface FieldMap {
  name: string;
  /** int64: read back as a number (protobufjs decodes 64-bit integers as Long objects). */
  long: boolean;
  /** One of the contract's dates, written as int64 milliseconds. */
  date: boolean;
  /** A field with presence (`optional`): absent is null. */
  nullable: boolean;
}

interface Kind {
  /** The envelope's field that holds this kind's data (the oneof's member). */
  field: string;
  fields: FieldMap[];
}

/**
 * Encodes and decodes wire objects with one .proto file (a writer's, on the consumer's side): its
 * first message is the envelope. The decoder reads the message indexes in front of the payload.
 * Plain objects go to protobufjs's generated encoder and come out of its decoder field by field:
 * its generic fromObject/toObject conversions cost more than the encoding itself.
 */
export function protobufCodec(proto: string): WireCodec & { prefix: Uint8Array } {
  const root = protobuf.parse(proto, { keepCase: true }).root;
  const files = root.nestedArray.flatMap((ns) => (ns instanceof protobuf.Namespace ? ns.nestedArray : [ns]));
  const envelope = files.find((t) => t instanceof protobuf.Type) as protobuf.Type;
  const kinds = dataKinds(envelope);
  return {
    prefix: FIRST_MESSAGE,
    encode(wire: WireObject): Buffer {
      const kind = kinds.byEvent.get(wire.event_type as string) ?? kinds.single;
      if (!kind) throw new InvalidEvent(`event_type: ${String(wire.event_type)} has no message in this schema`);
      const message = {
        v: wire.v,
        event_type: wire.event_type,
        event_id: wire.event_id,
        occurred_at: Date.parse(wire.occurred_at as string),
        [kind.field]: toProto(wire.data as WireObject, kind.fields),
      };
      return Buffer.from(envelope.encode(message).finish());
    },
    decode(payload: Buffer): WireObject {
      const start = skipMessageIndexes(payload);
      let m: Record<string, unknown>;
      try {
        m = envelope.decode(payload.subarray(start)) as unknown as Record<string, unknown>;
      } catch (err) {
        throw new InvalidEvent(`value is not a Protobuf ${envelope.name}: ${(err as Error).message}`);
      }
      const kind = kinds.single ?? kinds.byField.get(m.data as string);
      return {
        v: m.v,
        event_type: m.event_type,
        event_id: m.event_id,
        occurred_at: new Date(asNumber(m.occurred_at)).toISOString(),
        data: kind ? fromProto(m[kind.field] as Record<string, unknown>, kind.fields) : null,
      };
    },
  };
}

function dataKinds(envelope: protobuf.Type) {
  const byEvent = new Map<string, Kind>();
  const byField = new Map<string, Kind>();
  const oneof = envelope.oneofs?.data;
  const dataFields = oneof ? oneof.fieldsArray : [envelope.fields.data as protobuf.Field];
  for (const f of dataFields) {
    f.resolve();
    const kind = { field: f.name, fields: fieldMaps(f.resolvedType as protobuf.Type) };
    byEvent.set(f.name, kind);
    byField.set(f.name, kind);
  }
  return { byEvent, byField, single: oneof ? undefined : [...byField.values()][0] };
}

// from the writer's own schema: which fields are 64-bit, which of those are the contract's dates,
// and which may be null (a field with presence, `optional`)
function fieldMaps(type: protobuf.Type): FieldMap[] {
  return type.fieldsArray.map((f) => ({
    name: f.name,
    long: f.type === "int64",
    date: f.type === "int64" && DATE_FIELDS.has(f.name),
    nullable: Boolean(f.options?.proto3_optional || f.partOf),
  }));
}

function toProto(data: WireObject, fields: readonly FieldMap[]): WireObject {
  const out: WireObject = {};
  for (const f of fields) {
    const v = data[f.name];
    if (v === null || v === undefined) continue;
    out[f.name] = f.date ? Date.parse(v as string) : v;
  }
  return out;
}

function fromProto(message: Record<string, unknown>, fields: readonly FieldMap[]): WireObject {
  const out: WireObject = {};
  for (const f of fields) {
    // an unset field reads its default through the message's prototype; `optional` ones are null then
    if (f.nullable && !Object.hasOwn(message, f.name)) out[f.name] = null;
    else if (f.date) out[f.name] = new Date(asNumber(message[f.name])).toISOString();
    else out[f.name] = f.long ? asNumber(message[f.name]) : message[f.name];
  }
  return out;
}

function asNumber(v: unknown): number {
  return typeof v === "number" ? v : (v as { toNumber(): number }).toNumber();
}

// a zigzag varint count, then that many indexes; the count 0 alone means [0], the first message
function skipMessageIndexes(payload: Buffer): number {
  let pos = 0;
  const varint = (): number => {
    let shift = 0;
    let result = 0;
    for (;;) {
      const b = payload[pos++];
      if (b === undefined) throw new InvalidEvent("value ends inside its Protobuf message indexes");
      result |= (b & 0x7f) << shift;
      if (b < 0x80) return (result >>> 1) ^ -(result & 1);
      shift += 7;
    }
  };
  const count = varint();
  const indexes = Array.from({ length: count }, varint);
  if (indexes.some((i) => i !== 0))
    throw new InvalidEvent(`value names Protobuf message [${indexes.join(",")}]; this topic's envelope is the first`);
  return pos;
}

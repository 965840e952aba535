import { InvalidEvent } from "../kafka/contract.ts";
import { utf8OrNull } from "../kafka/envelope.ts";
import type { EntityTopic } from "../kafka/topics.ts";
import { avroCodec, avroSchemaOf } from "./avro.ts";
import { jsonSchemaOf } from "./definitions.ts";
import { protobufCodec, protoSchemaOf } from "./protobuf.ts";
import type { SchemaType } from "./registry.ts";
import type { RegistryFormat } from "../schema-formats.ts";
import type { WireCodec, WireObject } from "./wire-codec.ts";

// The formats a topic's values may be written in (FORMAT, docs/design.md, "Schemas"): JSON without
// a schema (the default), or one of the three the schema registry knows, framed with the schema's id.

export { FORMATS, type Format, type RegistryFormat } from "../schema-formats.ts";

export const SCHEMA_TYPE: Record<RegistryFormat, SchemaType> = { avro: "AVRO", protobuf: "PROTOBUF", jsonschema: "JSON" };

/** The registry subject of a topic's values (TopicNameStrategy). */
export function valueSubject(topic: string): string {
  return `${topic}-value`;
}

/** The schema text a format registers for a topic at a version of its schema. */
export function schemaText(format: RegistryFormat, entity: EntityTopic, version: number): string {
  if (format === "avro") return JSON.stringify(avroSchemaOf(entity, version));
  if (format === "protobuf") return protoSchemaOf(entity, version);
  return JSON.stringify(jsonSchemaOf(entity, version));
}

/** A codec for a schema as the registry holds it (a writer's schema, read by its id). */
export function codecFor(schemaType: SchemaType, schema: string): WireCodec & { prefix?: Uint8Array } {
  if (schemaType === "AVRO") return avroCodec(schema);
  if (schemaType === "PROTOBUF") return protobufCodec(schema);
  return JSON_SCHEMA_CODEC;
}

// JSON Schema values are the envelope's JSON; the contract (zod, of which the registered schema is
// a rendering) validates them after decoding, as it does plain JSON
const JSON_SCHEMA_CODEC: WireCodec = {
  encode: (wire: WireObject) => Buffer.from(JSON.stringify(wire)),
  decode(payload: Buffer): WireObject {
    const text = utf8OrNull(payload); // strict, as for plain JSON: never U+FFFD stored in place of bad bytes
    if (text === null) throw new InvalidEvent("value is not valid UTF-8 (JSON Schema format)");
    try {
      return JSON.parse(text) as WireObject;
    } catch {
      throw new InvalidEvent("value is not JSON (JSON Schema format)");
    }
  },
};

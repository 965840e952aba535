import { z } from "zod";
import { ENVELOPES } from "../kafka/contract.ts";
import type { EntityTopic } from "../kafka/topics.ts";
import { ORDER_FIELDS_BORN_IN, SCHEMA_VERSIONS } from "../schema-formats.ts";

// The registered schemas (docs/design.md, "Schemas"), all drawn from the zod contract so that there
// is one source of truth: its JSON Schema, then Avro and Protobuf written from that JSON Schema
// (avro.ts, protobuf.ts). A version of a topic's schema is the contract without the fields born
// after it; a field is only ever added, optional, at the end, so every step is BACKWARD-compatible.

export { SCHEMA_VERSIONS };

/** Fields born after version 1, with the version that brought them. */
const BORN_IN: Record<EntityTopic, Record<string, number>> = { users: {}, products: {}, orders: ORDER_FIELDS_BORN_IN, clicks: {} };

/** A JSON Schema node, as zod writes them (only what the converters read). */
export interface JsonNode {
  type?: string;
  format?: string;
  const?: unknown;
  enum?: unknown[];
  anyOf?: JsonNode[];
  oneOf?: JsonNode[];
  properties?: Record<string, JsonNode>;
  required?: string[];
  additionalProperties?: unknown;
  [key: string]: unknown;
}

/** One kind of event on a topic: its envelope's event_type and the JSON Schema of its data. */
export interface EventShape {
  eventType: string;
  /** A record or message name for it: OrderCreated for order_created. */
  name: string;
  data: JsonNode;
}

/** The event kinds a topic carries at a version of its schema, in the contract's order. */
export function eventShapes(entity: EntityTopic, version: number): EventShape[] {
  checkVersion(entity, version);
  const root = z.toJSONSchema(ENVELOPES[entity], { io: "input", unrepresentable: "any" }) as JsonNode;
  const envelopes = root.anyOf ?? [root];
  return envelopes.map((env) => {
    const eventType = env.properties?.event_type?.const as string;
    const data = withoutLaterFields(env.properties?.data as JsonNode, BORN_IN[entity], version);
    return { eventType, name: pascal(eventType), data: stripPatterns(data) };
  });
}

/** The topic's whole envelope as a JSON Schema document, for the JSON Schema format. */
export function jsonSchemaOf(entity: EntityTopic, version: number): JsonNode {
  const shapes = eventShapes(entity, version);
  const envelope = (s: EventShape): JsonNode => ({
    type: "object",
    properties: {
      v: { type: "integer", const: 1 },
      event_type: { type: "string", const: s.eventType },
      event_id: { type: "string", minLength: 1 },
      occurred_at: { type: "string", format: "date-time" },
      // closed, as the envelope: a field added to a closed object is BACKWARD-compatible
      data: { ...s.data, additionalProperties: false },
    },
    required: ["v", "event_type", "event_id", "occurred_at", "data"],
    additionalProperties: false,
  });
  const title = `shopstream.${pascal(entity)}Event`;
  const body = shapes.length === 1 ? envelope(shapes[0] as EventShape) : { oneOf: shapes.map(envelope) };
  return { $schema: "http://json-schema.org/draft-07/schema#", title, ...body };
}

/** Every field of the contract that holds a date, on any topic. */
export const DATE_FIELDS: ReadonlySet<string> = new Set(
  (Object.keys(SCHEMA_VERSIONS) as EntityTopic[]).flatMap((entity) =>
    eventShapes(entity, SCHEMA_VERSIONS[entity].at(-1) as number).flatMap((s) =>
      Object.entries(s.data.properties ?? {})
        .filter(([, n]) => n.format === "date-time" || n.anyOf?.some((b) => b.format === "date-time"))
        .map(([field]) => field),
    ),
  ),
);

export function checkVersion(entity: EntityTopic, version: number): void {
  if (!SCHEMA_VERSIONS[entity].includes(version))
    throw new RangeError(`${entity} has no schema version ${version} (versions: ${SCHEMA_VERSIONS[entity].join(", ")})`);
}

/** order_created → OrderCreated, orders → Orders. */
export function pascal(snake: string): string {
  return snake.replace(/(^|_)([a-z])/g, (_, _sep, c: string) => c.toUpperCase());
}

function withoutLaterFields(data: JsonNode, bornIn: Record<string, number>, version: number): JsonNode {
  const properties = { ...data.properties };
  for (const [field, born] of Object.entries(bornIn)) if (born > version) delete properties[field];
  return { ...data, properties, required: data.required?.filter((f) => f in properties) };
}

// zod spells out an ISO date-time as a long regular expression beside format: date-time; the format says it
function stripPatterns(node: JsonNode): JsonNode {
  const out: JsonNode = {};
  for (const [k, v] of Object.entries(node)) {
    if (k === "pattern" && node.format === "date-time") continue;
    if (k === "properties") out.properties = Object.fromEntries(Object.entries(v as object).map(([p, n]) => [p, stripPatterns(n)]));
    else if (k === "anyOf") out.anyOf = (v as JsonNode[]).map(stripPatterns);
    else out[k] = v;
  }
  return out;
}

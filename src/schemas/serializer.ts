import { couponFor } from "../domain/coupons.ts";
import type { Order } from "../domain/types.ts";
import type { EventKinds } from "../kafka/contract.ts";
import { encode, wireOf } from "../kafka/envelope.ts";
import type { EntityTopic, TopicNames } from "../kafka/topics.ts";
import { ORDER_FIELDS_BORN_IN } from "../schema-formats.ts";
import { checkVersion } from "./definitions.ts";
import { codecFor, type Format, type RegistryFormat, SCHEMA_TYPE, schemaText, valueSubject } from "./formats.ts";
import { type RegistryClient, SchemaRefused } from "./registry.ts";
import { frame, type WireCodec } from "./wire-codec.ts";

// The producers' side of the formats (docs/design.md, "Schemas"): every value validated by the
// contract, then written as JSON or in a registry format under the schema registered for its topic
// (TopicNameStrategy subject, BACKWARD compatibility). The order schema's version can change live:
// the new version is registered first, and only then written.

/** What a producer writes on a topic: its format and schema version, and the registry's id (null for JSON). */
export interface TopicFormat {
  topic: string;
  format: Format;
  version: number;
  schemaId: number | null;
}

export interface EventSerializer {
  readonly format: Format;
  /** The envelope of one event, validated, as the value to send. */
  encode<E extends EntityTopic>(entity: E, data: EventKinds[E], occurredAt?: Date): string | Buffer;
  /** Switches the orders topic to a version of its schema, registering it first; SchemaRefused when the registry will not have it. */
  useOrderVersion(version: number): Promise<void>;
  topics(): TopicFormat[];
}

export interface SerializerOptions {
  format: Format;
  /** Needed for any format but JSON. */
  registry?: RegistryClient;
  names: TopicNames;
  /** The topics this producer writes. */
  entities: readonly EntityTopic[];
  orderVersion: number;
}

/** What a publisher needs of a serializer: one event's value. */
export type EventEncoder = Pick<EventSerializer, "encode">;

/** Plain JSON at the first version of every schema: for writers that take no FORMAT. */
export const PLAIN_JSON: EventEncoder = { encode };

/** A serializer for the format; registers the topics' schemas first (RegistryUnavailable when the registry is away). */
export async function openSerializer(opts: SerializerOptions): Promise<EventSerializer> {
  checkVersion("orders", opts.orderVersion);
  const s = opts.format === "json" ? new JsonSerializer(opts) : new RegistrySerializer(opts, opts.format);
  for (const entity of opts.entities) await s.prepare(entity, entity === "orders" ? opts.orderVersion : 1);
  return s;
}

abstract class VersionedSerializer implements EventSerializer {
  abstract readonly format: Format;
  protected readonly version: Record<EntityTopic, number> = { users: 1, products: 1, orders: 1, clicks: 1 };

  constructor(protected readonly opts: SerializerOptions) {}

  abstract prepare(entity: EntityTopic, version: number): Promise<void>;
  protected abstract write(entity: EntityTopic, wire: Record<string, unknown>): string | Buffer;
  protected abstract schemaId(entity: EntityTopic): number | null;

  encode<E extends EntityTopic>(entity: E, data: EventKinds[E], occurredAt = new Date()): string | Buffer {
    return this.write(entity, wireOf(entity, entity === "orders" ? this.orderAt(data) : data, occurredAt));
  }

  async useOrderVersion(version: number): Promise<void> {
    checkVersion("orders", version);
    await this.prepare("orders", version);
  }

  topics(): TopicFormat[] {
    return this.opts.entities.map((e) => ({
      topic: this.opts.names.topic(e),
      format: this.format,
      version: this.version[e],
      schemaId: this.schemaId(e),
    }));
  }

  // version 2 of the order schema carries the coupon behind the discount, version 3 the session the
  // order was placed in; a lifecycle step is the same in all
  private orderAt<T>(item: T): T {
    if (typeof item !== "object" || item === null || "order_id" in item) return item;
    const v = this.version.orders;
    const order = item as unknown as Order;
    if (v === 1 && order.coupon_code === undefined && order.session_id === undefined) return item; // the common case: no copy
    const { coupon_code: _, session_id, ...v1 } = order;
    if (v >= ORDER_FIELDS_BORN_IN.session_id) return { ...v1, coupon_code: couponFor(v1), session_id: session_id ?? null } as T;
    if (v >= ORDER_FIELDS_BORN_IN.coupon_code) return { ...v1, coupon_code: couponFor(v1) } as T;
    return v1 as T;
  }
}

class JsonSerializer extends VersionedSerializer {
  readonly format = "json" as const;

  async prepare(entity: EntityTopic, version: number): Promise<void> {
    this.version[entity] = version;
  }

  protected write(_entity: EntityTopic, wire: Record<string, unknown>): string {
    return JSON.stringify(wire);
  }

  protected schemaId(): null {
    return null;
  }
}

class RegistrySerializer extends VersionedSerializer {
  private readonly writers = new Map<string, { id: number; codec: WireCodec & { prefix?: Uint8Array } }>();

  constructor(
    opts: SerializerOptions,
    readonly format: RegistryFormat,
  ) {
    super(opts);
    if (!opts.registry) throw new Error(`FORMAT=${format} needs a schema registry`);
  }

  async prepare(entity: EntityTopic, version: number): Promise<void> {
    if (!this.writers.has(`${entity}@${version}`)) {
      const subject = valueSubject(this.opts.names.topic(entity));
      // BACKWARD before the first version lands: a later, incompatible schema is then refused
      await (this.opts.registry as RegistryClient).setCompatibility(subject, "BACKWARD");
      // the versions before it first, so that the subject's history is the schema's own: a producer
      // that starts at version 3 on a new subject leaves versions 1 and 2 registered, and a later one
      // at an earlier version finds its schema there (a schema registered already is not checked
      // again), where it would otherwise be judged against version 3 and refused (Protobuf's removed
      // field, JSON Schema's closed objects). An earlier version the subject's history refuses is
      // passed over: only this producer's own version must be taken.
      for (let v = 1; v < version; v++)
        await this.register(subject, entity, v).catch((err: unknown) => {
          if (!(err instanceof SchemaRefused)) throw err;
        });
      await this.register(subject, entity, version);
    }
    this.version[entity] = version;
  }

  private async register(subject: string, entity: EntityTopic, version: number): Promise<void> {
    const key = `${entity}@${version}`;
    if (this.writers.has(key)) return;
    const text = schemaText(this.format, entity, version);
    const schemaType = SCHEMA_TYPE[this.format];
    const id = await (this.opts.registry as RegistryClient).register(subject, schemaType, text);
    this.writers.set(key, { id, codec: codecFor(schemaType, text) });
  }

  protected write(entity: EntityTopic, wire: Record<string, unknown>): Buffer {
    const w = this.writers.get(`${entity}@${this.version[entity]}`) as { id: number; codec: WireCodec & { prefix?: Uint8Array } };
    return frame(w.id, w.codec.encode(wire), w.codec.prefix);
  }

  protected schemaId(entity: EntityTopic): number | null {
    return this.writers.get(`${entity}@${this.version[entity]}`)?.id ?? null;
  }
}

import { describe } from "../errors.ts";
import { InvalidEvent } from "../kafka/contract.ts";
import type { FramedReader } from "../kafka/envelope.ts";
import { codecFor } from "./formats.ts";
import type { RegistryClient, SchemaType } from "./registry.ts";
import { framedPayload, isFramed, schemaIdOf, type WireCodec, type WireObject } from "./wire-codec.ts";

// The consumers' side of the registry (docs/design.md, "Schemas"): a value names its writer's
// schema by id, and is decoded with that schema, so every format and every version of a topic's
// schema reads alike. Schemas are fetched once per id, before a batch is decoded (prepare), so
// that decoding stays synchronous; a registry that cannot be reached fails prepare (the batch
// waits and retries, the ids already seen keep flowing from the cache); an id the registry does
// not know, or a schema that cannot be read, is the record's fault: it is dead-lettered.

interface Known {
  codec: WireCodec;
  schemaType: SchemaType;
}

/** A fault of the id itself: one the registry does not know is asked about again after this long. */
interface Fault {
  fault: string;
  /** When to ask again (an id registered since, a registry restored); never for a schema that cannot be read. */
  retryAt: number;
}

/** How long an id the registry does not know stays known as unknown (a poison flood asks once per this). */
const UNKNOWN_ID_TTL_MS = 30_000;

export class SchemaReader implements FramedReader {
  private readonly known = new Map<number, Known | Fault>();

  constructor(private readonly registry: RegistryClient) {}

  /** Fetches the schemas the values name that are not cached yet; throws RegistryUnavailable when the registry is away. */
  async prepare(values: Iterable<Buffer | null>): Promise<void> {
    const missing = new Set<number>();
    const now = Date.now();
    for (const v of values) {
      if (v === null || !isFramed(v)) continue;
      const id = schemaIdOf(v);
      const entry = this.known.get(id);
      if (entry === undefined || ("fault" in entry && entry.retryAt <= now)) missing.add(id);
    }
    for (const id of missing) {
      const found = await this.registry.schemaById(id);
      if (found === null)
        this.known.set(id, {
          fault: `schema id ${id} is not in the registry at ${this.registry.url}`,
          retryAt: Date.now() + UNKNOWN_ID_TTL_MS,
        });
      else this.known.set(id, this.compile(id, found.schemaType, found.schema));
    }
  }

  read(value: Buffer): WireObject {
    if (!isFramed(value))
      throw new InvalidEvent(`value starts with the registry's zero byte but is ${value.length} byte(s), shorter than its 5-byte header`);
    const id = schemaIdOf(value);
    const entry = this.known.get(id);
    if (entry === undefined) throw new InvalidEvent(`schema id ${id} was not fetched before decoding`);
    if ("fault" in entry) throw new InvalidEvent(entry.fault);
    try {
      return entry.codec.decode(framedPayload(value));
    } catch (err) {
      if (err instanceof InvalidEvent) throw err;
      throw new InvalidEvent(`value does not match its ${entry.schemaType} schema (id ${id}): ${describe(err)}`);
    }
  }

  private compile(id: number, schemaType: SchemaType, schema: string): Known | Fault {
    try {
      return { codec: codecFor(schemaType, schema), schemaType };
    } catch (err) {
      // the schema an id names never changes: nothing to ask again
      return { fault: `schema id ${id} (${schemaType}) cannot be read: ${describe(err)}`, retryAt: Number.POSITIVE_INFINITY };
    }
  }
}

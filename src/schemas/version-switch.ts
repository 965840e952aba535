import type Redis from "ioredis";
import { describe, ShopstreamError } from "../errors.ts";
import { type Logger, StormLog } from "../log.ts";
import { SCHEMA_VERSIONS } from "../schema-formats.ts";
import { SchemaRefused } from "./registry.ts";
import type { EventSerializer } from "./serializer.ts";

// The live switch of the order schema's version (docs/design.md, "Schemas"): a version pinned in
// Redis by the live page or `PUT /schema-version/:n`, which every producer of orders follows within
// a second, registering the version before it writes it; cleared, producers return to
// ORDER_SCHEMA_VERSION.

export class SchemaVersionSwitch {
  readonly key: string;

  constructor(
    private readonly redis: Redis,
    prefix = "",
  ) {
    this.key = `${prefix}control:order-schema-version`;
  }

  async pinned(): Promise<number | null> {
    const v = await this.redis.get(this.key);
    return v === null ? null : Number(v);
  }

  /** Pins a version of the order schema; one that does not exist is refused (nothing is written). */
  async pin(raw: string): Promise<number> {
    const version = Number(raw);
    if (!SCHEMA_VERSIONS.orders.includes(version))
      throw new ShopstreamError(`the order schema has no version "${raw}" (versions: ${SCHEMA_VERSIONS.orders.join(", ")})`);
    await this.redis.set(this.key, String(version));
    return version;
  }

  async clear(): Promise<void> {
    await this.redis.del(this.key);
  }
}

/**
 * One look at the pin, for a producer's once-a-second loop: switches the serializer when the pin
 * (or, without one, the starting version) differs. A version the registry refuses is said once, in
 * one line, and not asked for again until the pin changes; a registry away is retried the next second.
 */
export function schemaVersionFollower(pin: SchemaVersionSwitch, serializer: EventSerializer, startVersion: number, log: Logger) {
  const storm = new StormLog((line) => log.warn(line));
  let refused: number | null = null;
  let current = startVersion;
  return async (): Promise<void> => {
    let wanted = current;
    try {
      wanted = (await pin.pinned()) ?? startVersion;
      if (wanted === current || wanted === refused) return;
      await serializer.useOrderVersion(wanted);
      log.info(`writing orders with version ${wanted} of the order schema (${serializer.format})`);
      current = wanted;
      refused = null;
    } catch (err) {
      if (err instanceof SchemaRefused) {
        refused = wanted;
        log.error(`staying on version ${current} of the order schema: ${describe(err)}`);
      } else storm.note(describe(err), `cannot follow the order schema version (version ${current} goes on; trying again):`);
    }
  };
}

import type { Config } from "../config.ts";
import { ShopstreamError } from "../errors.ts";
import type { EntityTopic, TopicNames } from "../kafka/topics.ts";
import type { Logger } from "../log.ts";
import { POLICIES, retry } from "../retry.ts";
import { SchemaReader } from "./reader.ts";
import { RegistryClient, RegistryUnavailable } from "./registry.ts";
import { type EventSerializer, openSerializer } from "./serializer.ts";

// Serializers and readers from the configuration (FORMAT, SCHEMA_REGISTRY_URL, ORDER_SCHEMA_VERSION).

/** How long a producing service waits at start for a registry that does not answer yet (starting, or busy). */
export const REGISTRY_START_WAIT_MS = 60_000;

/**
 * The serializer a producing service writes with. A registry that does not answer is waited for
 * (one line, then quiet) up to `waitMs`; after that it is one clear error.
 */
export async function openEventSerializer(
  config: Pick<Config, "format" | "schemaRegistryUrl" | "orderSchemaVersion">,
  names: TopicNames,
  entities: readonly EntityTopic[],
  opts: { log?: Logger; signal?: AbortSignal; waitMs?: number } = {},
): Promise<EventSerializer> {
  const registry = config.format === "json" ? undefined : new RegistryClient(config.schemaRegistryUrl);
  const waitMs = opts.waitMs ?? REGISTRY_START_WAIT_MS;
  const deadline = Date.now() + waitMs;
  try {
    return await retry(
      () => openSerializer({ format: config.format, registry, names, entities, orderVersion: config.orderSchemaVersion }),
      {
        ...POLICIES.registryStart,
        signal: opts.signal,
        retriable: (err) => err instanceof RegistryUnavailable && Date.now() < deadline,
        onRetry: (err, attempt) => {
          if (attempt === 1) opts.log?.warn(`${(err as Error).message}; waiting up to ${waitMs / 1000} s for it`);
        },
      },
    );
  } catch (err) {
    if (!(err instanceof RegistryUnavailable)) throw err;
    throw new ShopstreamError(
      `FORMAT=${config.format} needs the schema registry at ${config.schemaRegistryUrl} (SCHEMA_REGISTRY_URL), which does not answer: start it with deploy/local/infra.sh up`,
      { cause: err },
    );
  }
}

/** What a consumer decodes registry-framed values with: the registry is asked only when such a value comes. */
export function schemaReader(config: Pick<Config, "schemaRegistryUrl">): SchemaReader {
  return new SchemaReader(new RegistryClient(config.schemaRegistryUrl));
}

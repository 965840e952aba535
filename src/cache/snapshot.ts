import type Redis from "ioredis";
import type { CacheKeys } from "./keys.ts";
import type { CachedProduct, CachedUser } from "./reload.ts";

export interface CacheSnapshot {
  users: CachedUser[];
  products: CachedProduct[];
  /** updated_at of the reload this snapshot comes from; changes at every reload. */
  generation: string | null;
}

/** The producer's read: both hashes and the generation in one pipelined round trip (docs/design.md, "Cache"). */
export async function readSnapshot(redis: Redis, keys: CacheKeys): Promise<CacheSnapshot> {
  const replies = await redis.pipeline().hgetall(keys.users).hgetall(keys.products).hget(keys.usersMeta, "updated_at").exec();
  if (!replies) throw new Error("Redis pipeline returned nothing");
  for (const [err] of replies) if (err) throw err;
  // sorted by id: Redis hash order is not part of the contract, and draws must be reproducible
  const users = parseAll<CachedUser>(replies[0]?.[1]);
  const products = parseAll<CachedProduct>(replies[1]?.[1]);
  return { users, products, generation: (replies[2]?.[1] as string | null) ?? null };
}

/**
 * Counts one cache lookup (the metrics service turns hits and misses into the hit ratio). A lookup
 * is one of the producer's checks of the cache, at start and once a second: a hit when Redis held a
 * loaded cache, a miss when it held none (emptied by a restart, or not loaded yet).
 */
export async function recordLookup(redis: Redis, keys: CacheKeys, hit: boolean): Promise<void> {
  await redis.hincrby(keys.stats, hit ? "hits" : "misses", 1);
}

/** Cheap poll: has the cache been reloaded since `generation`? */
export async function currentGeneration(redis: Redis, keys: CacheKeys): Promise<string | null> {
  return redis.hget(keys.usersMeta, "updated_at");
}

function parseAll<T extends { id: string }>(hash: unknown): T[] {
  const items = Object.values((hash ?? {}) as Record<string, string>).map((v) => JSON.parse(v) as T);
  return items.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

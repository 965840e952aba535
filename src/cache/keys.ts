// Redis key layout (docs/design.md, "Cache"). A prefix lets tests and parallel pipelines share one Redis.

export interface CacheKeys {
  users: string;
  products: string;
  usersMeta: string;
  productsMeta: string;
  /** Hash: reloads, hits, misses. */
  stats: string;
}

export function cacheKeys(prefix = ""): CacheKeys {
  return {
    users: `${prefix}cache:users`,
    products: `${prefix}cache:products`,
    usersMeta: `${prefix}cache:users:meta`,
    productsMeta: `${prefix}cache:products:meta`,
    stats: `${prefix}cache:stats`,
  };
}

import Redis from "ioredis";

/** An ioredis client that reports "Redis unreachable" instead of retrying silently forever. */
export function connectRedis(url: string, opts: { lazy?: boolean } = {}): Redis {
  return new Redis(url, {
    lazyConnect: opts.lazy ?? false,
    maxRetriesPerRequest: 2,
    enableOfflineQueue: true,
    retryStrategy: (times) => Math.min(times * 200, 2000),
  });
}

export async function assertRedisReachable(redis: Redis, variable = "REDIS_URL"): Promise<void> {
  try {
    await redis.ping();
  } catch (err) {
    throw new Error(`${variable}: cannot reach Redis (${err instanceof Error ? err.message : err})`);
  }
}

import Redis from "ioredis";

/**
 * An ioredis client that keeps reconnecting, fails a command after two retries (callers decide what
 * an outage means for them) and reports a lost connection once instead of once per retry.
 */
export function connectRedis(url: string, opts: { lazy?: boolean } = {}): Redis {
  const client = new Redis(url, {
    lazyConnect: opts.lazy ?? false,
    maxRetriesPerRequest: 2,
    enableOfflineQueue: true,
    retryStrategy: (times) => Math.min(times * 200, 2000),
  });
  let reported = false;
  client.on("error", (err: Error) => {
    if (!reported)
      console.error(`${new Date().toISOString()} WARN  [redis] ${url.replace(/\/\/[^@]*@/, "//")}: ${err.message}; reconnecting`);
    reported = true;
  });
  client.on("ready", () => {
    reported = false;
  });
  return client;
}

export async function assertRedisReachable(redis: Redis, variable = "REDIS_URL"): Promise<void> {
  try {
    await redis.ping();
  } catch (err) {
    throw new Error(`${variable}: cannot reach Redis (${err instanceof Error ? err.message : err})`);
  }
}

import Redis from "ioredis";
import { describe, ShopstreamError } from "../errors.ts";
import { type Logger, logger } from "../log.ts";
import { backoffMs, POLICIES } from "../retry.ts";

/**
 * An ioredis client that keeps reconnecting, fails a command after two retries (callers decide what
 * an outage means for them) and reports a lost connection once instead of once per retry.
 */
export function connectRedis(url: string, opts: { lazy?: boolean; log?: Logger } = {}): Redis {
  const log = opts.log ?? logger("redis");
  const client = new Redis(url, {
    lazyConnect: opts.lazy ?? false,
    maxRetriesPerRequest: 2,
    enableOfflineQueue: true,
    retryStrategy: (times) => backoffMs(times, POLICIES.redisReconnect),
  });
  let reported = false;
  client.on("error", (err: Error) => {
    if (!reported) log.warn(`Redis at ${url.replace(/\/\/[^@]*@/, "//")}: ${err.message}; reconnecting`);
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
    throw new ShopstreamError(`${variable}: cannot reach Redis (${describe(err)})`, { cause: err, retriable: true });
  }
}

/** Deletes every key under `prefix` (a pipeline's or a test's namespace), a SCAN page at a time. */
export async function deleteByPrefix(redis: Redis, prefix: string): Promise<number> {
  if (!prefix) throw new ShopstreamError("deleteByPrefix: refusing an empty prefix (it would empty Redis)");
  let deleted = 0;
  let cursor = "0";
  do {
    const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 500);
    cursor = next;
    if (keys.length) deleted += await redis.del(...keys);
  } while (cursor !== "0");
  return deleted;
}

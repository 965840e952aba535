import type Redis from "ioredis";
import { registry } from "./registry.ts";

export const SNAPSHOT_TTL_S = 30;

export function snapshotKey(prefix: string, instance: string): string {
  return `${prefix}metrics:snapshot:${instance}`;
}

/** Ships this process's metrics to Redis every `everyMs`; returns a stop function that ships once more. */
export function publishMetrics(redis: Redis, prefix: string, instance: string, everyMs = 5000): () => Promise<void> {
  const key = snapshotKey(prefix, instance);
  const ship = async () => {
    try {
      await redis.set(key, JSON.stringify(await registry.getMetricsAsJSON()), "EX", SNAPSHOT_TTL_S);
    } catch {
      // metrics are best effort: a Redis outage must not disturb the data path
    }
  };
  const timer = setInterval(ship, everyMs);
  void ship();
  return async () => {
    clearInterval(timer);
    await ship();
  };
}

import type Redis from "ioredis";
import { processCpu, processMemory, registry } from "./registry.ts";

export const SNAPSHOT_TTL_S = 30;
/** How often a process ships its snapshot: the live page's rates move at this grain. */
export const PUBLISH_EVERY_MS = 2000;

export function snapshotKey(prefix: string, instance: string): string {
  return `${prefix}metrics:snapshot:${instance}`;
}

/** Ships this process's metrics to Redis every `everyMs`; returns a stop function that ships once more. */
export function publishMetrics(redis: Redis, prefix: string, instance: string, everyMs = PUBLISH_EVERY_MS): () => Promise<void> {
  const key = snapshotKey(prefix, instance);
  let cpuSeen = 0;
  const ship = async () => {
    const cpu = process.cpuUsage();
    const cpuSeconds = (cpu.user + cpu.system) / 1e6;
    processCpu.inc({ service: instance }, cpuSeconds - cpuSeen);
    cpuSeen = cpuSeconds;
    processMemory.set({ service: instance }, process.memoryUsage.rss());
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

/** The live snapshots of the processes under `prefix` (those whose name matches `instance`, a Redis glob), as prom-client JSON. */
export async function readMetricSnapshots(redis: Redis, prefix: string, instance = "*"): Promise<object[]> {
  const keys: string[] = [];
  let cursor = "0";
  do {
    const [next, batch] = await redis.scan(cursor, "MATCH", snapshotKey(prefix, instance), "COUNT", 100);
    cursor = next;
    keys.push(...batch);
  } while (cursor !== "0");
  if (keys.length === 0) return [];
  const values = await redis.mget(keys);
  return values.filter((v): v is string => v !== null).map((v) => JSON.parse(v) as object);
}

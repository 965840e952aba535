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

/** At most this many snapshots are summed, each with at most this many series: what a pipeline has, with room. */
export const SNAPSHOT_LIMITS = { processes: 64, seriesPerProcess: 2000 } as const;
/** A process's name as runService gives it (producer, order-consumer-3, producer-2). */
const PROCESS_NAME = /^[a-z][a-z-]*(-\d{1,4})?$/;
/** Metrics a snapshot may carry: shopstream's own, and prom-client's process metrics. */
const METRIC_NAME = /^(shopstream_|process_|nodejs_)[a-z0-9_]+$/;

interface Snapshot {
  name?: unknown;
  values?: unknown;
}

/**
 * The live snapshots of the processes under `prefix` (those whose name matches `instance`, a Redis
 * glob), as prom-client JSON. Any local process can write these keys, so what is summed is checked:
 * a process name of ours, metric names of ours, a bounded number of series; the rest is skipped and
 * counted in `skipped` (it would otherwise blow up the scrape's label cardinality).
 */
export async function readMetricSnapshots(redis: Redis, prefix: string, instance = "*"): Promise<object[] & { skipped?: string[] }> {
  const keys: string[] = [];
  let cursor = "0";
  do {
    const [next, batch] = await redis.scan(cursor, "MATCH", snapshotKey(prefix, instance), "COUNT", 100);
    cursor = next;
    keys.push(...batch);
  } while (cursor !== "0");
  const out: object[] & { skipped?: string[] } = [];
  const skipped: string[] = [];
  if (keys.length === 0) return out;
  keys.sort();
  const values = await redis.mget(keys.slice(0, SNAPSHOT_LIMITS.processes));
  if (keys.length > SNAPSHOT_LIMITS.processes)
    skipped.push(`${keys.length - SNAPSHOT_LIMITS.processes} snapshot(s) beyond ${SNAPSHOT_LIMITS.processes}`);
  values.forEach((raw, i) => {
    const name = (keys[i] as string).slice(snapshotKey(prefix, "").length);
    const why = raw === null ? null : snapshotFault(name, raw);
    if (why) skipped.push(`${name}: ${why}`);
    else if (raw !== null) out.push(JSON.parse(raw) as object);
  });
  if (skipped.length) out.skipped = skipped;
  return out;
}

function snapshotFault(name: string, raw: string): string | null {
  if (!PROCESS_NAME.test(name)) return "not a process name of shopstream";
  let metrics: unknown;
  try {
    metrics = JSON.parse(raw);
  } catch {
    return "not JSON";
  }
  if (!Array.isArray(metrics)) return "not a list of metrics";
  let series = 0;
  for (const m of metrics as Snapshot[]) {
    if (typeof m?.name !== "string" || !METRIC_NAME.test(m.name)) return `metric ${String(m?.name).slice(0, 60)} is not shopstream's`;
    if (!Array.isArray(m.values)) return `metric ${m.name} has no values`;
    series += m.values.length;
  }
  if (series > SNAPSHOT_LIMITS.seriesPerProcess) return `${series} series, more than ${SNAPSHOT_LIMITS.seriesPerProcess}`;
  return null;
}

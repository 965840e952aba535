import type Redis from "ioredis";
import type { CacheKeys } from "./keys.ts";

// redis-monitor's status line (docs/design.md, "Cache"), e.g.
// [11:45:35] [15/50s ######--------------] | MEM: 2.25M | OPS/s: 120 | HIT: 100.0% | CACHE: users=1000, products=1000 | 교체: 1회

export interface CacheStatus {
  now: Date;
  elapsedS: number;
  periodS: number;
  usedMemory: string;
  opsPerSec: number;
  hits: number;
  misses: number;
  users: number;
  products: number;
  reloads: number;
}

const BAR_CELLS = 20;

export function statusLine(s: CacheStatus): string {
  const elapsed = Math.min(Math.max(0, Math.floor(s.elapsedS)), Math.round(s.periodS));
  const filled = Math.round((elapsed / s.periodS) * BAR_CELLS);
  const bar = "#".repeat(filled) + "-".repeat(BAR_CELLS - filled);
  const lookups = s.hits + s.misses;
  const hit = lookups === 0 ? "-" : `${((100 * s.hits) / lookups).toFixed(1)}%`;
  const time = s.now.toTimeString().slice(0, 8);
  return `[${time}] [${elapsed}/${Math.round(s.periodS)}s ${bar}] | MEM: ${s.usedMemory} | OPS/s: ${s.opsPerSec} | HIT: ${hit} | CACHE: users=${s.users}, products=${s.products} | 교체: ${s.reloads}회`;
}

export function reloadBanner(reloads: number): string {
  return `🔄 ${reloads}번째 교체 완료!`;
}

export function infoField(info: string, field: string): string | undefined {
  const m = new RegExp(`^${field}:(.*)$`, "m").exec(info);
  return m?.[1]?.trim();
}

/** Everything the line needs, in one pipelined round trip. */
export async function readStatus(redis: Redis, keys: CacheKeys, periodS: number, now = new Date()): Promise<CacheStatus> {
  const replies = await redis
    .pipeline()
    .info("memory")
    .info("stats")
    .hlen(keys.users)
    .hlen(keys.products)
    .hgetall(keys.stats)
    .hget(keys.usersMeta, "updated_at")
    .exec();
  if (!replies) throw new Error("Redis pipeline returned nothing");
  for (const [err] of replies) if (err) throw err;
  const value = (i: number) => replies[i]?.[1];
  const stats = (value(4) ?? {}) as Record<string, string>;
  const updatedAt = value(5) as string | null;
  return {
    now,
    elapsedS: updatedAt ? (now.getTime() - Date.parse(updatedAt)) / 1000 : 0,
    periodS,
    usedMemory: infoField(value(0) as string, "used_memory_human") ?? "?",
    opsPerSec: Number(infoField(value(1) as string, "instantaneous_ops_per_sec") ?? 0),
    hits: Number(stats.hits ?? 0),
    misses: Number(stats.misses ?? 0),
    users: Number(value(2)),
    products: Number(value(3)),
    reloads: Number(stats.reloads ?? 0),
  };
}

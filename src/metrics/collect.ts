import type Redis from "ioredis";
import { AggregatorRegistry, Gauge, Registry } from "prom-client";
import type { CacheKeys } from "../cache/keys.ts";
import { type Db, withDb } from "../db/bounded.ts";
import { ordersByStatus, ordersLastMinute } from "../db/analytics.ts";
import { gradeDistribution } from "../db/grades.ts";
import { parkedByTopic } from "../db/parking.ts";
import { ORDER_STATUSES } from "../domain/types.ts";
import { consumerLag } from "../kafka/lag.ts";
import type { KafkaAdmin } from "../kafka/port.ts";
import type { TopicNames } from "../kafka/topics.ts";
import { readMetricSnapshots } from "./publish.ts";

// What the metrics service itself observes at scrape time (lag, cache, grades), merged with the
// summed snapshots of every service process.

export interface Sources {
  redis: Redis;
  /** The metrics service's BoundedPool: a database that hangs fails the scrape's reads, never holds the scrape. */
  db: Db;
  admin: KafkaAdmin;
  keys: CacheKeys;
  names: TopicNames;
  prefix: string;
  /** Told why a source could not be read (its shopstream_source_up is 0 for this scrape), or what it skipped. */
  onError?: (source: "kafka" | "redis" | "postgres", err: unknown) => void;
  /**
   * Scrapes this close together share one read of the sources (the metrics service: 1 s): a process
   * polling /metrics cannot make it query Kafka and PostgreSQL any faster.
   */
  minReadIntervalMs?: number;
}

type Readings = ReturnType<typeof readSources>;
const lastReadings = new WeakMap<Sources, { at: number; readings: Readings }>();

function readSources(src: Sources) {
  return Promise.allSettled([
    consumerLag(src.admin, src.names),
    src.redis.pipeline().hgetall(src.keys.stats).hget(src.keys.usersMeta, "updated_at").hlen(src.keys.users).hlen(src.keys.products).exec(),
    Promise.all([
      withDb(src.db, "the users per grade", gradeDistribution),
      withDb(src.db, "the last minute's orders", ordersLastMinute),
      statusesAtMost10s(src.db),
      withDb(src.db, "the parked records", parkedByTopic),
    ]),
    readMetricSnapshots(src.redis, src.prefix),
  ] as const);
}

/** The sources as of at most `minReadIntervalMs` ago: one read in flight serves every scrape that comes meanwhile. */
function readings(src: Sources): Readings {
  const ms = src.minReadIntervalMs ?? 0;
  const last = lastReadings.get(src);
  if (last && Date.now() - last.at < ms) return last.readings;
  const fresh = readSources(src);
  if (ms > 0) lastReadings.set(src, { at: Date.now(), readings: fresh });
  return fresh;
}

/** Orders per status scans the whole table (a million rows after a historical year): read at most every 10 s. */
const STATUS_EVERY_MS = 10_000;
const statusReads = new WeakMap<Db, { at: number; rows: Promise<{ status: string; n: number }[]> }>();

function statusesAtMost10s(db: Db): Promise<{ status: string; n: number }[]> {
  const last = statusReads.get(db);
  if (last && Date.now() - last.at < STATUS_EVERY_MS) return last.rows;
  const rows = withDb(db, "the orders per status", ordersByStatus);
  statusReads.set(db, { at: Date.now(), rows });
  rows.catch(() => statusReads.delete(db)); // a failed read is retried at the next scrape
  return rows;
}

export async function buildRegistry(src: Sources): Promise<Registry> {
  const local = new Registry();
  const gauge = (name: string, help: string, labelNames: string[] = []) => new Gauge({ name, help, labelNames, registers: [local] });

  const lagGauge = gauge("shopstream_consumer_lag", "Messages not yet committed by the group, per partition", [
    "group",
    "topic",
    "partition",
  ]);
  const hitRatio = gauge("shopstream_cache_hit_ratio", "Share of producer cache reads that found users and products");
  const reloads = gauge("shopstream_cache_reloads", "Cache reloads done by the cache-worker since Redis started");
  const cacheAge = gauge("shopstream_cache_age_seconds", "Seconds since the cache was last reloaded");
  const entries = gauge("shopstream_cache_entries", "Entries in the Redis cache", ["kind"]);
  const grades = gauge("shopstream_users_by_grade", "Users per grade", ["grade"]);
  const ordersPerSecond = gauge("shopstream_orders_per_second", "Orders stored in PostgreSQL per second, averaged over the last 60 s");
  const byStatus = gauge("shopstream_orders_by_status", "Orders in PostgreSQL per lifecycle status", ["status"]);
  const parked = gauge("shopstream_parked_records", "Records waiting in PostgreSQL for what they reference, per topic", ["topic"]);
  const up = gauge("shopstream_source_up", "1 when the metrics service could read the source at scrape time", ["source"]);

  const [lagResult, cacheResult, gradeResult, snapshots] = await readings(src);

  const report = (source: "kafka" | "redis" | "postgres", r: PromiseSettledResult<unknown>) => {
    up.set({ source }, r.status === "fulfilled" ? 1 : 0);
    if (r.status === "rejected") src.onError?.(source, r.reason);
  };
  report("kafka", lagResult);
  if (lagResult.status === "fulfilled")
    for (const l of lagResult.value) lagGauge.set({ group: l.group, topic: l.topic, partition: String(l.partition) }, l.lag);

  report("redis", cacheResult);
  if (cacheResult.status === "fulfilled" && cacheResult.value) {
    const [statsRaw, updatedAt, users, products] = cacheResult.value.map(([, v]) => v);
    const stats = (statsRaw ?? {}) as Record<string, string>;
    const hits = Number(stats.hits ?? 0);
    const misses = Number(stats.misses ?? 0);
    if (hits + misses > 0) hitRatio.set(hits / (hits + misses));
    reloads.set(Number(stats.reloads ?? 0));
    if (typeof updatedAt === "string") cacheAge.set((Date.now() - Date.parse(updatedAt)) / 1000);
    entries.set({ kind: "users" }, Number(users));
    entries.set({ kind: "products" }, Number(products));
  }

  report("postgres", gradeResult);
  if (gradeResult.status === "fulfilled") {
    const [dist, recent, statuses, lot] = gradeResult.value;
    for (const [grade, n] of Object.entries(dist)) grades.set({ grade }, n);
    ordersPerSecond.set(recent / 60);
    for (const status of ORDER_STATUSES) byStatus.set({ status }, statuses.find((s) => s.status === status)?.n ?? 0);
    parked.set({ topic: src.names.topic("orders") }, 0); // "nothing waits" is a figure too
    for (const { topic, n } of lot) parked.set({ topic }, n);
  }

  const merged = [local];
  if (snapshots.status === "fulfilled" && snapshots.value.skipped)
    src.onError?.("redis", new Error(`metric snapshots skipped: ${snapshots.value.skipped.slice(0, 3).join("; ")}`));
  if (snapshots.status === "fulfilled" && snapshots.value.length > 0) merged.push(AggregatorRegistry.aggregate(snapshots.value));
  return Registry.merge(merged);
}

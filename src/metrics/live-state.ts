import { CATEGORIES, CATEGORY_BY_CODE } from "../domain/categories.ts";
import type { FlinkRevenue, RecentFunnel } from "../db/shop-queries.ts";
import { HOURLY_VOLUME } from "../domain/curves.ts";
import { seoulHour } from "../domain/seoul-time.ts";
import type { LiveSeries, Scrape } from "./live.ts";

// What the live page shows, as one JSON document (GET /api/live): the last ten minutes' rates and
// lag, the current figures of the last scrape, and the hour's volume curve against the orders.

export interface Health {
  postgres: boolean;
  redis: boolean;
  kafka: boolean;
  /** Under CDC=1: the CDC connector and its tasks run. */
  cdc?: boolean;
  /** While a Flink job runs (`bun run flink`) and 30 s after it ended: none has failed. */
  flink?: boolean;
}

export interface LiveState {
  at: number;
  series: LiveSeries;
  totals: {
    produced: Record<string, number>;
    consumed: Record<string, number>;
    stored: Record<string, number>;
    deadLettered: Record<string, number>;
  };
  cache: {
    ageS: number | null;
    periodS: number;
    nextReloadS: number | null;
    users: number;
    products: number;
    hitRatio: number | null;
    reloads: number;
  };
  grades: Record<string, number>;
  /** Orders per lifecycle status. */
  statuses: Record<string, number>;
  /** Orders stored per Seoul hour over the last 24 hours, against the volume curve scaled to the same total. */
  hours: { now: number; actual: number[]; curve: number[] };
  scenario: { active: string | null; pinned: string | null; choices: { id: string; name: string }[] };
  /** What producers write each topic in: format, schema version, the registry's id (0 for JSON); the order schema's pin. */
  schemas: { topics: { topic: string; format: string; version: number; schemaId: number }[]; pinned: number | null; versions: number[] };
  /** The category mix of the orders stored in the last minute, with the Korean names. */
  categories: { code: string; name: string; orders: number }[];
  /** With --clicks: the last hour's sessions by the stage they reached (session, view, cart, checkout, purchase), and per category. */
  funnel: { stages: number[]; categories: { code: string; name: string; sessions: number; purchasePct: number }[] };
  health: Health;
  /** The Flink job's state while `bun run flink` runs (null otherwise), and the revenue job's latest minute per category. */
  flink: { job: string | null; minute: number | null; categories: { code: string; name: string; orders: number; revenue: number }[] };
  /** Under CDC=1, as the cdc-watch service last saw it: the connector's state, its tasks', the WAL its slot holds back. */
  cdc: { connector: string; tasks: Record<string, number>; slotMb: number; restarts: number } | null;
  processes: { service: string; rssMb: number }[];
}

export interface LiveInputs {
  at: Date;
  scrape: Scrape;
  series: LiveSeries;
  /** The cache-worker's reload period at the configured speed. */
  cachePeriodS: number;
  ordersByHour: number[];
  recentCategories: Record<string, number>;
  funnel: RecentFunnel;
  flinkRevenue: FlinkRevenue;
  pinned: string | null;
  choices: { id: string; name: string }[];
  /** The order schema version pinned live, and the versions there are. */
  schemaPinned: number | null;
  schemaVersions: number[];
  health: Health;
}

export function liveState(i: LiveInputs): LiveState {
  const s = i.scrape;
  const age = s.one("shopstream_cache_age_seconds");
  const entries = s.by("shopstream_cache_entries", "kind");
  const active = Object.entries(s.by("shopstream_producer_scenario", "scenario")).find(([, v]) => v > 0)?.[0] ?? null;
  const total = i.ordersByHour.reduce((a, b) => a + b, 0);
  const curveTotal = HOURLY_VOLUME.reduce((a, b) => a + b, 0);
  return {
    at: i.at.getTime(),
    series: i.series,
    totals: {
      produced: s.by("shopstream_messages_produced_total", "topic"),
      consumed: s.by("shopstream_messages_consumed_total", "topic"),
      stored: s.by("shopstream_messages_stored_total", "topic"),
      deadLettered: s.by("shopstream_dlq_messages_total", "topic"),
    },
    cache: {
      ageS: age,
      periodS: i.cachePeriodS,
      nextReloadS: age === null ? null : Math.max(0, i.cachePeriodS - age),
      users: entries.users ?? 0,
      products: entries.products ?? 0,
      hitRatio: s.one("shopstream_cache_hit_ratio"),
      reloads: s.one("shopstream_cache_reloads") ?? 0,
    },
    grades: s.by("shopstream_users_by_grade", "grade"),
    statuses: s.by("shopstream_orders_by_status", "status"),
    hours: {
      now: seoulHour(i.at),
      actual: i.ordersByHour,
      curve: HOURLY_VOLUME.map((v) => (total * v) / curveTotal),
    },
    scenario: { active, pinned: i.pinned, choices: i.choices },
    schemas: {
      topics: s
        .values("shopstream_topic_schema")
        .map((v) => ({
          topic: String(v.labels.topic),
          format: String(v.labels.format),
          version: Number(v.labels.version),
          schemaId: v.value,
        }))
        .sort((a, b) => a.topic.localeCompare(b.topic) || a.version - b.version),
      pinned: i.schemaPinned,
      versions: i.schemaVersions,
    },
    categories: CATEGORIES.map((c) => ({ code: c.code, name: c.nameKo, orders: i.recentCategories[c.code] ?? 0 })),
    funnel: {
      stages: i.funnel.stages,
      categories: i.funnel.categories.map((c) => ({
        code: c.category,
        name: CATEGORY_BY_CODE.get(c.category)?.nameKo ?? c.category,
        sessions: c.sessions,
        purchasePct: c.purchasePct,
      })),
    },
    health: i.health,
    flink: {
      job: flinkJobOf(s),
      minute: i.flinkRevenue.minute?.getTime() ?? null,
      categories: i.flinkRevenue.categories.map((c) => ({
        code: c.category,
        name: CATEGORY_BY_CODE.get(c.category)?.nameKo ?? c.category,
        orders: c.orders,
        revenue: c.revenue,
      })),
    },
    cdc: cdcOf(s),
    processes: s
      .values("shopstream_process_resident_memory_bytes")
      .map((v) => ({ service: String(v.labels.service), rssMb: v.value / 2 ** 20 }))
      .sort((a, b) => a.service.localeCompare(b.service)),
  };
}

/** The Flink runs' state, the worst first: a failed run is not hidden by one still running. */
const FLINK_STATES = ["FAILED", "RUNNING", "STOPPED", "FINISHED"];

function flinkJobOf(s: Scrape): string | null {
  const states = s.by("shopstream_flink_job_state", "state");
  return FLINK_STATES.find((state) => (states[state] ?? 0) > 0) ?? null;
}

function cdcOf(s: Scrape): LiveState["cdc"] {
  const connector = Object.entries(s.by("shopstream_cdc_connector_state", "state")).find(([, v]) => v > 0)?.[0];
  if (!connector) return null;
  return {
    connector,
    tasks: s.by("shopstream_cdc_tasks", "state"),
    slotMb: (s.one("shopstream_cdc_slot_retained_bytes") ?? 0) / 2 ** 20,
    restarts: s.one("shopstream_cdc_restarts_total") ?? 0,
  };
}

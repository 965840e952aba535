import type { Registry } from "prom-client";
import { type FlinkRevenue, flinkRevenue, ordersByHour, type RecentFunnel, recentCategoryMix, recentFunnel } from "../db/shop-queries.ts";
import { type ScenarioControl, scenarioChoices } from "../cache/scenario-switch.ts";
import { type Db, withDb } from "../db/bounded.ts";
import { SCHEMA_VERSIONS } from "../schema-formats.ts";
import type { SchemaVersionSwitch } from "../schemas/version-switch.ts";
import { LiveHistory, Scrape } from "./live.ts";
import { type Health, type LiveState, liveState } from "./live-state.ts";

// The metrics service's own sampling loop for the live page: every few seconds a scrape of its own
// /metrics into the ten-minute history; every few samples the SQL figures (orders per hour, the
// last minute's category mix, the last hour's click funnel, the Flink revenue job's latest minute),
// which cost more than a scrape.

export const LIVE_SAMPLE_MS = 2000;
const SQL_EVERY_MS = 5000;

export interface LiveMonitorDeps {
  registry(): Promise<Registry>;
  db: Db;
  scenario: ScenarioControl;
  schemaVersion: Pick<SchemaVersionSwitch, "pinned">;
  health(): Promise<{ up: Health }>;
  /** The cache-worker's reload period at the configured speed. */
  cachePeriodS: number;
}

export class LiveMonitor {
  private readonly history = new LiveHistory();
  private latest: LiveState | null = null;
  private hours = new Array<number>(24).fill(0);
  private categories: Record<string, number> = {};
  private funnel: RecentFunnel = { stages: [0, 0, 0, 0, 0], categories: [] };
  private revenue: FlinkRevenue = { minute: null, categories: [] };
  private sqlAt = 0;

  constructor(private readonly deps: LiveMonitorDeps) {}

  state(): LiveState | null {
    return this.latest;
  }

  async sample(at = new Date()): Promise<void> {
    const scrape = await Scrape.of(await this.deps.registry());
    this.history.add(at.getTime(), scrape);
    if (at.getTime() - this.sqlAt >= SQL_EVERY_MS) {
      this.sqlAt = at.getTime();
      // PostgreSQL down: the page keeps the last figures, and shows postgres down
      [this.hours, this.categories, this.funnel, this.revenue] = await withDb(this.deps.db, "the live page's figures", (sql) =>
        Promise.all([ordersByHour(sql, at), recentCategoryMix(sql, at), recentFunnel(sql, at), flinkRevenue(sql, at)]),
      ).catch(() => [this.hours, this.categories, this.funnel, this.revenue] as const);
    }
    const [pinned, schemaPinned, health] = await Promise.all([
      this.deps.scenario.pinned().catch(() => null),
      this.deps.schemaVersion.pinned().catch(() => null),
      this.deps.health(),
    ]);
    this.latest = liveState({
      at,
      scrape,
      series: this.history.series(),
      cachePeriodS: this.deps.cachePeriodS,
      ordersByHour: this.hours,
      recentCategories: this.categories,
      funnel: this.funnel,
      flinkRevenue: this.revenue,
      pinned,
      choices: scenarioChoices(),
      schemaPinned,
      schemaVersions: [...SCHEMA_VERSIONS.orders],
      health: health.up,
    });
  }
}

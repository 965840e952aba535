import type { Registry } from "prom-client";
import { ordersByHour, recentCategoryMix } from "../db/shop-queries.ts";
import { type ScenarioControl, scenarioChoices } from "../cache/scenario-switch.ts";
import { type Db, withDb } from "../db/bounded.ts";
import { LiveHistory, Scrape } from "./live.ts";
import { type Health, type LiveState, liveState } from "./live-state.ts";

// The metrics service's own sampling loop for the live page: every few seconds a scrape of its own
// /metrics into the ten-minute history; every few samples the SQL figures (orders per hour, the
// last minute's category mix), which cost more than a scrape.

export const LIVE_SAMPLE_MS = 2000;
const SQL_EVERY_MS = 5000;

export interface LiveMonitorDeps {
  registry(): Promise<Registry>;
  db: Db;
  scenario: ScenarioControl;
  health(): Promise<{ up: Health }>;
  /** The cache-worker's reload period at the configured speed. */
  cachePeriodS: number;
}

export class LiveMonitor {
  private readonly history = new LiveHistory();
  private latest: LiveState | null = null;
  private hours = new Array<number>(24).fill(0);
  private categories: Record<string, number> = {};
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
      [this.hours, this.categories] = await withDb(this.deps.db, "the live page's figures", (sql) =>
        Promise.all([ordersByHour(sql, at), recentCategoryMix(sql, at)]),
      ).catch(() => [this.hours, this.categories] as const);
    }
    const [pinned, health] = await Promise.all([this.deps.scenario.pinned().catch(() => null), this.deps.health()]);
    this.latest = liveState({
      at,
      scrape,
      series: this.history.series(),
      cachePeriodS: this.deps.cachePeriodS,
      ordersByHour: this.hours,
      recentCategories: this.categories,
      pinned,
      choices: scenarioChoices(),
      health: health.up,
    });
  }
}

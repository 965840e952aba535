import { expect, test } from "bun:test";
import { Counter, Gauge, Registry } from "prom-client";
import { HOURLY_VOLUME } from "../../src/domain/curves.ts";
import { LiveHistory, Scrape } from "../../src/metrics/live.ts";
import { liveState } from "../../src/metrics/live-state.ts";

// The live page's memory: counters turned into rates over real prom-client registries, as the
// metrics service samples its own /metrics.

function fakeProcess() {
  const registry = new Registry();
  const produced = new Counter({ name: "shopstream_messages_produced_total", help: "h", labelNames: ["topic"], registers: [registry] });
  const stored = new Counter({ name: "shopstream_messages_stored_total", help: "h", labelNames: ["topic"], registers: [registry] });
  const lag = new Gauge({ name: "shopstream_consumer_lag", help: "h", labelNames: ["group", "topic", "partition"], registers: [registry] });
  return { registry, produced, stored, lag };
}

test("counters become rates over the last 10 s, a restart's drop is no negative rate, and the window keeps 10 minutes", async () => {
  const p = fakeProcess();
  const history = new LiveHistory();
  const t0 = Date.parse("2026-03-10T11:00:00Z");
  // 100 orders/s for a minute, sampled every 2 s
  for (let s = 0; s <= 60; s += 2) {
    p.produced.inc({ topic: "orders" }, s === 0 ? 0 : 200);
    p.lag.set({ group: "orders_group", topic: "orders", partition: "0" }, s);
    history.add(t0 + s * 1000, await Scrape.of(p.registry));
  }
  let series = history.series();
  expect(series.t).toHaveLength(30);
  expect(series.produced.orders!.slice(5).every((r) => Math.abs(r - 100) < 1e-9)).toBe(true);
  expect(series.lag["orders_group/0"]!.at(-1)).toBe(60);
  // the process restarts: its counter starts again from 0
  p.produced.reset();
  p.produced.inc({ topic: "orders" }, 50);
  history.add(t0 + 62_000, await Scrape.of(p.registry));
  series = history.series();
  expect(series.produced.orders!.at(-1)).toBe(0);
  // ten minutes later the first samples are gone
  history.add(t0 + 62_000 + 10 * 60_000, await Scrape.of(p.registry));
  expect(history.series().t.length).toBeLessThan(3);
});

test("the page's figures: reload countdown, the volume curve scaled to the day's orders, the producer's scenario", async () => {
  const registry = new Registry();
  new Gauge({ name: "shopstream_cache_age_seconds", help: "h", registers: [registry] }).set(20);
  new Gauge({ name: "shopstream_producer_scenario", help: "h", labelNames: ["scenario"], registers: [registry] }).set(
    { scenario: "golf_season" },
    1,
  );
  const schemas = new Gauge({
    name: "shopstream_topic_schema",
    help: "h",
    labelNames: ["topic", "format", "version"],
    registers: [registry],
  });
  schemas.set({ topic: "orders", format: "avro", version: "2" }, 7);
  schemas.set({ topic: "orders", format: "avro", version: "1" }, 5);
  schemas.set({ topic: "users", format: "json", version: "1" }, 0);
  // two Flink runs summed: one running, one failed; the failed one is what the page must show
  const flink = new Gauge({ name: "shopstream_flink_job_state", help: "h", labelNames: ["state"], registers: [registry] });
  flink.set({ state: "RUNNING" }, 1);
  flink.set({ state: "FAILED" }, 1);
  flink.set({ state: "FINISHED" }, 0);
  const ordersByHour = Array.from({ length: 24 }, (_, h) => h * 10);
  const state = liveState({
    at: new Date("2026-03-10T11:00:00Z"), // 20 h in Seoul
    scrape: await Scrape.of(registry),
    series: new LiveHistory().series(),
    cachePeriodS: 50,
    ordersByHour,
    recentCategories: { GOLF: 7 },
    funnel: { stages: [100, 65, 20, 11, 8], categories: [{ category: "GOLF", sessions: 40, purchasePct: 5 }] },
    flinkRevenue: { minute: null, categories: [] },
    pinned: "golf_season",
    choices: [{ id: "golf_season", name: "골프 시즌" }],
    schemaPinned: 2,
    schemaVersions: [1, 2],
    health: { postgres: true, redis: true, kafka: false },
  });
  expect(state.schemas).toEqual({
    topics: [
      { topic: "orders", format: "avro", version: 1, schemaId: 5 },
      { topic: "orders", format: "avro", version: 2, schemaId: 7 },
      { topic: "users", format: "json", version: 1, schemaId: 0 },
    ],
    pinned: 2,
    versions: [1, 2],
  });
  expect(state.flink.job).toBe("FAILED");
  expect(state.cache).toMatchObject({ ageS: 20, periodS: 50, nextReloadS: 30 });
  expect(state.hours.now).toBe(20);
  const total = ordersByHour.reduce((a, b) => a + b, 0);
  expect(state.hours.curve.reduce((a, b) => a + b, 0)).toBeCloseTo(total, 6);
  expect(state.hours.curve[20]! / state.hours.curve[3]!).toBeCloseTo(HOURLY_VOLUME[20]! / HOURLY_VOLUME[3]!, 9);
  expect(state.scenario.active).toBe("golf_season");
  expect(state.categories.find((c) => c.code === "GOLF")).toEqual({ code: "GOLF", name: "골프", orders: 7 });
  // the click funnel's categories by their Korean names
  expect(state.funnel).toEqual({
    stages: [100, 65, 20, 11, 8],
    categories: [{ code: "GOLF", name: "골프", sessions: 40, purchasePct: 5 }],
  });
});

import { SHOP_QUERIES } from "../db/shop-queries.ts";

// The two Grafana dashboards, generated from the queries the project runs itself: "Pipeline" (the
// live pipeline's Prometheus series) and "Shop analytics" (SQL over the tables, the same queries
// `bun run report` draws). `bun run dashboards` writes them to deploy/grafana/dashboards/; the
// suite checks that the files are what this code generates and that every query runs.

/** Data source uids, as deploy/grafana/provisioning/datasources/shopstream.yml declares them. */
export const DATASOURCES = {
  prometheus: { type: "prometheus", uid: "shopstream-prometheus" },
  postgres: { type: "grafana-postgresql-datasource", uid: "shopstream-postgres" },
} as const;

export interface PromPanel {
  title: string;
  unit: string;
  /** PromQL, with Grafana's $__rate_interval where a rate needs a range. */
  exprs: { expr: string; legend: string }[];
}

export const PIPELINE_PANELS: readonly PromPanel[] = [
  {
    title: "Throughput: produced, consumed, stored per topic (messages/s)",
    unit: "ops",
    exprs: [
      { expr: "sum by (topic) (rate(shopstream_messages_produced_total[$__rate_interval]))", legend: "produced {{topic}}" },
      { expr: "sum by (topic) (rate(shopstream_messages_consumed_total[$__rate_interval]))", legend: "consumed {{topic}}" },
      { expr: "sum by (topic) (rate(shopstream_messages_stored_total[$__rate_interval]))", legend: "stored {{topic}}" },
    ],
  },
  {
    title: "Consumer lag per group and partition",
    unit: "short",
    exprs: [{ expr: "sum by (group, partition) (shopstream_consumer_lag)", legend: "{{group}}/{{partition}}" }],
  },
  {
    title: "Dead letters per source topic (messages/s)",
    unit: "ops",
    exprs: [{ expr: "sum by (topic) (rate(shopstream_dlq_messages_total[$__rate_interval]))", legend: "{{topic}}" }],
  },
  {
    title: "Consumer batch size (rows), median and p99",
    unit: "short",
    exprs: [
      {
        expr: "histogram_quantile(0.5, sum by (le, topic) (rate(shopstream_consumer_batch_size_bucket[$__rate_interval])))",
        legend: "p50 {{topic}}",
      },
      {
        expr: "histogram_quantile(0.99, sum by (le, topic) (rate(shopstream_consumer_batch_size_bucket[$__rate_interval])))",
        legend: "p99 {{topic}}",
      },
    ],
  },
  {
    title: "PostgreSQL write latency per batch, median and p99",
    unit: "s",
    exprs: [
      {
        expr: "histogram_quantile(0.5, sum by (le, topic) (rate(shopstream_db_write_seconds_bucket[$__rate_interval])))",
        legend: "p50 {{topic}}",
      },
      {
        expr: "histogram_quantile(0.99, sum by (le, topic) (rate(shopstream_db_write_seconds_bucket[$__rate_interval])))",
        legend: "p99 {{topic}}",
      },
    ],
  },
  {
    title: "Cache: hit ratio and age",
    unit: "short",
    exprs: [
      { expr: "shopstream_cache_hit_ratio", legend: "hit ratio" },
      { expr: "shopstream_cache_age_seconds", legend: "age (s)" },
    ],
  },
  {
    title: "Cache entries",
    unit: "short",
    exprs: [{ expr: "sum by (kind) (shopstream_cache_entries)", legend: "{{kind}}" }],
  },
  {
    title: "Producer: buffered messages and resends (messages/s)",
    unit: "short",
    exprs: [
      { expr: "sum(shopstream_producer_buffered_messages)", legend: "buffered" },
      { expr: "sum(rate(shopstream_produce_retries_total[$__rate_interval]))", legend: "resent/s" },
    ],
  },
  {
    title: "Process resident memory per service",
    unit: "bytes",
    exprs: [{ expr: "sum by (service) (shopstream_process_resident_memory_bytes)", legend: "{{service}}" }],
  },
  {
    title: "Process CPU per service (cores)",
    unit: "short",
    exprs: [{ expr: "sum by (service) (rate(shopstream_process_cpu_seconds_total[$__rate_interval]))", legend: "{{service}}" }],
  },
  {
    title: "Sources the metrics service can read (1 = up)",
    unit: "short",
    exprs: [{ expr: "shopstream_source_up", legend: "{{source}}" }],
  },
  {
    title: "Order lifecycle: steps applied per second, by status reached",
    unit: "ops",
    exprs: [{ expr: "sum by (to) (rate(shopstream_order_transitions_total[$__rate_interval]))", legend: "→ {{to}}" }],
  },
  {
    title: "Orders by lifecycle status",
    unit: "short",
    exprs: [{ expr: "sum by (status) (shopstream_orders_by_status)", legend: "{{status}}" }],
  },
  {
    title: "Grade mix (users)",
    unit: "short",
    exprs: [{ expr: "sum by (grade) (shopstream_users_by_grade)", legend: "{{grade}}" }],
  },
];

type Json = Record<string, unknown>;

function gridPos(i: number, wide = false): Json {
  return wide ? { x: 0, y: i * 9, w: 24, h: 9 } : { x: (i % 2) * 12, y: Math.floor(i / 2) * 9, w: 12, h: 9 };
}

function dashboard(uid: string, title: string, panels: Json[], time: { from: string; to: string }, refresh: string): Json {
  return {
    uid,
    title,
    tags: ["shopstream"],
    timezone: "Asia/Seoul",
    schemaVersion: 39,
    version: 1,
    editable: true,
    refresh,
    time,
    panels,
  };
}

export function pipelineDashboard(): Json {
  const panels = PIPELINE_PANELS.map((p, i) => ({
    id: i + 1,
    type: "timeseries",
    title: p.title,
    gridPos: gridPos(i),
    datasource: DATASOURCES.prometheus,
    fieldConfig: { defaults: { unit: p.unit }, overrides: [] },
    targets: p.exprs.map((e, k) => ({
      refId: String.fromCharCode(65 + k),
      datasource: DATASOURCES.prometheus,
      expr: e.expr,
      legendFormat: e.legend,
    })),
  }));
  return dashboard("shopstream-pipeline", "shopstream — Pipeline", panels, { from: "now-30m", to: "now" }, "10s");
}

export function shopDashboard(): Json {
  const panels = SHOP_QUERIES.map((q, i) => ({
    id: i + 1,
    type: q.kind === "timeseries" ? "timeseries" : q.kind === "bars" ? "barchart" : "table",
    title: q.title,
    gridPos: gridPos(i),
    datasource: DATASOURCES.postgres,
    targets: [
      {
        refId: "A",
        datasource: DATASOURCES.postgres,
        format: q.kind === "timeseries" ? "time_series" : "table",
        rawQuery: true,
        rawSql: q.sql,
        editorMode: "code",
      },
    ],
  }));
  return dashboard("shopstream-shop", "shopstream — Shop analytics", panels, { from: "now-1y", to: "now" }, "");
}

/** The dashboards as the files deploy/grafana/dashboards/ holds. */
export function dashboardFiles(): Record<string, string> {
  return {
    "pipeline.json": `${JSON.stringify(pipelineDashboard(), null, 2)}\n`,
    "shop-analytics.json": `${JSON.stringify(shopDashboard(), null, 2)}\n`,
  };
}

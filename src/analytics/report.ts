import { readFileSync } from "node:fs";
import { countOrders, ordersSpan } from "../db/analytics.ts";
import type { Sql } from "../db/client.ts";
import { type AnalyticsQuery, runQuery, SHOP_QUERIES } from "../db/shop-queries.ts";

// `bun run report`: the Shop analytics dashboard as one self-contained HTML file, for people without
// Grafana. The same queries as the dashboard (src/db/shop-queries.ts) over the whole range of the
// orders table (or the range asked for); the charting library and the data are inlined, so the file
// opens anywhere, offline.

export interface ReportSection {
  query: AnalyticsQuery;
  rows: Record<string, unknown>[];
}

export interface Report {
  from: Date;
  to: Date;
  orders: number;
  sections: ReportSection[];
}

/** The range of the stored orders, [first, last]; null when there are none. */
export async function ordersRange(sql: Sql): Promise<{ from: Date; to: Date } | null> {
  const span = await ordersSpan(sql);
  if (!span.first || !span.last) return null;
  return { from: span.first, to: new Date(span.last.getTime() + 1000) };
}

export async function buildReport(sql: Sql, from: Date, to: Date): Promise<Report> {
  const sections: ReportSection[] = [];
  for (const query of SHOP_QUERIES) sections.push({ query, rows: await runQuery(sql, query, from, to) });
  return { from, to, orders: await countOrders(sql, from, to), sections };
}

const uplot = (file: string) => readFileSync(Bun.resolveSync(`uplot/dist/${file}`, import.meta.dir), "utf8");

export function renderReport(report: Report, generatedAt = new Date()): string {
  const data = JSON.stringify({
    from: report.from.toISOString(),
    to: report.to.toISOString(),
    orders: report.orders,
    sections: report.sections.map((s) => ({ id: s.query.id, title: s.query.title, kind: s.query.kind, rows: s.rows })),
  }).replace(/</g, "\\u003c");
  const day = (d: Date) => d.toISOString().slice(0, 10);
  return `<!doctype html>
<html lang="ko">
<head>
<meta charset="utf-8">
<title>shopstream — shop analytics ${day(report.from)} – ${day(report.to)}</title>
<style>${uplot("uPlot.min.css")}${STYLE}</style>
</head>
<body>
<header><h1>shopstream <small>쇼핑 분석 · shop analytics</small></h1>
<p>${report.orders.toLocaleString("en")} orders from ${day(report.from)} to ${day(report.to)} · generated ${generatedAt.toISOString().replace("T", " ").slice(0, 16)} UTC</p></header>
<main id="sections"></main>
<script>${uplot("uPlot.iife.min.js")}</script>
<script>const REPORT = ${data};
${SCRIPT}</script>
</body>
</html>`;
}

const STYLE = `
body{font:14px/1.4 system-ui,"Nanum Gothic",sans-serif;margin:0;background:#f6f7f9;color:#1d2330}
header{padding:14px 24px;background:#1d2330;color:#fff}h1{margin:0;font-size:20px}h1 small{font-weight:400;opacity:.7;margin-left:6px}
header p{margin:4px 0 0;opacity:.8;font-size:12px}
main{display:grid;grid-template-columns:repeat(auto-fill,minmax(620px,1fr));gap:16px;padding:16px 24px}
section{background:#fff;border-radius:8px;padding:10px 12px;box-shadow:0 1px 2px #0001;overflow:auto;max-height:520px}
h2{font-size:14px;margin:0 0 8px}table{border-collapse:collapse;font-size:12px;width:100%}
td,th{padding:2px 8px;border-bottom:1px solid #eee;text-align:left}td.n{text-align:right;font-variant-numeric:tabular-nums}
.row{display:flex;align-items:center;gap:8px;font-size:12px;margin:2px 0}.row span{width:170px;text-align:right;white-space:nowrap;overflow:hidden}
.row i{display:block;height:12px;background:#3367d6;border-radius:2px}.row em{font-style:normal;color:#5b6475}
`;

// Plain browser JavaScript, run when the file opens.
const SCRIPT = `
const COLORS = ["#3367d6", "#e8710a", "#1e8e3e", "#d93025", "#9334e6", "#12b5cb", "#f9ab00", "#5f6368", "#c5221f", "#0b8043", "#8e24aa", "#ad1457"];
const fmt = (n) => Number(n).toLocaleString("en-US", { maximumFractionDigits: 0 });
const numeric = (rows, col) => rows.length > 0 && rows.every((r) => typeof r[col] === "number" || (typeof r[col] === "string" && r[col] !== "" && !Number.isNaN(Number(r[col]))));

function timeseries(el, rows) {
  const cols = Object.keys(rows[0] ?? {}).filter((c) => c !== "time" && c !== "metric" && numeric(rows, c));
  const times = [...new Set(rows.map((r) => Date.parse(r.time) / 1000))].sort((a, b) => a - b);
  const at = new Map(times.map((t, i) => [t, i]));
  const series = [];
  const byMetric = Boolean(rows[0] && "metric" in rows[0]);
  if (byMetric) {
    // one series per metric value, of the first value column
    for (const m of [...new Set(rows.map((r) => r.metric))]) {
      const ys = times.map(() => null);
      for (const r of rows) if (r.metric === m) ys[at.get(Date.parse(r.time) / 1000)] = Number(r[cols[0]]);
      series.push({ label: String(m), ys });
    }
  } else for (const c of cols) series.push({ label: c, ys: rows.map((r) => Number(r[c])) });
  new uPlot({
    width: el.clientWidth, height: 280,
    series: [{}, ...series.map((s, i) => ({ label: s.label, stroke: COLORS[i % COLORS.length], spanGaps: !byMetric, scale: s.label === "revenue" ? "krw" : "y" }))],
    axes: [{}, { scale: "y", size: 60 }, ...(series.some((s) => s.label === "revenue") ? [{ scale: "krw", side: 1, size: 80, grid: { show: false } }] : [])],
  }, [times, ...series.map((s) => s.ys)], el);
}

function hours(el, rows) {
  new uPlot({
    width: el.clientWidth, height: 280, scales: { x: { time: false } },
    series: [{}, { label: "orders", stroke: COLORS[0], fill: COLORS[0] + "55", paths: uPlot.paths.bars({ size: [0.7] }) }, { label: "volume curve", stroke: COLORS[1], width: 2 }],
    axes: [{ incrs: [1, 3, 6], values: (u, v) => v.map((h) => h + "시") }, { size: 60 }],
  }, [rows.map((r) => r.hour), rows.map((r) => r.orders), rows.map((r) => r.curve)], el);
}

function bars(el, rows) {
  const [label, value] = Object.keys(rows[0] ?? {});
  const max = Math.max(1, ...rows.map((r) => Number(r[value])));
  el.innerHTML = rows.map((r) => '<div class="row"><span>' + esc(r[label]) + '</span><i style="width:' + (320 * Number(r[value]) / max).toFixed(1) + 'px"></i><em>' + esc(fmt(r[value])) + "</em></div>").join("");
}

// names and brands come from the shop's data (any producer's): text, never markup
function esc(v) {
  return String(v).replace(/[&<>"']/g, (ch) => "&#" + ch.charCodeAt(0) + ";");
}

function table(el, rows) {
  const cols = Object.keys(rows[0] ?? {});
  el.innerHTML = "<table><tr>" + cols.map((c) => "<th>" + esc(c) + "</th>").join("") + "</tr>" +
    rows.map((r) => "<tr>" + cols.map((c) => numeric([r], c) ? '<td class="n">' + esc(fmt(r[c])) + "</td>" : "<td>" + esc(r[c]) + "</td>").join("") + "</tr>").join("") + "</table>";
}

for (const s of REPORT.sections) {
  const section = document.createElement("section");
  section.innerHTML = "<h2>" + esc(s.title) + "</h2>";
  const el = document.createElement("div");
  el.className = "chart";
  el.dataset.chart = s.id;
  section.appendChild(el);
  document.getElementById("sections").appendChild(section);
  if (s.rows.length === 0) { el.textContent = "no rows in this range"; continue; }
  if (s.id === "hours") hours(el, s.rows);
  else if (s.kind === "timeseries") timeseries(el, s.rows);
  else if (s.kind === "bars") bars(el, s.rows);
  else table(el, s.rows);
  el.dataset.rendered = String(s.rows.length);
}
`;

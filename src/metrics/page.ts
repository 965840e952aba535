import { readFileSync } from "node:fs";

// The live page (GET /): one HTML document that polls /api/live every two seconds and updates its
// charts in place. Charts are uPlot, served from node_modules by this service, so the page works
// with no network beyond the metrics service itself. The shop speaks Korean (categories, grades,
// scenarios), the engineering speaks English.

const uplot = (file: string) => readFileSync(Bun.resolveSync(`uplot/dist/${file}`, import.meta.dir), "utf8");

export const assets: Record<string, { body: string; type: string }> = {
  "uPlot.iife.min.js": { body: uplot("uPlot.iife.min.js"), type: "text/javascript; charset=utf-8" },
  "uPlot.min.css": { body: uplot("uPlot.min.css"), type: "text/css; charset=utf-8" },
};

export function livePage(): string {
  return `<!doctype html>
<html lang="ko">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>shopstream — live</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/assets/uPlot.min.css">
<style>${STYLE}</style>
</head>
<body>
<header>
  <h1>shopstream <small>실시간 · live</small></h1>
  <div id="health"></div>
  <div id="updated">waiting for the first sample…</div>
</header>
<section class="tiles">
  <div class="tile"><b id="ordersNow">–</b><span>주문/초 stored now</span></div>
  <div class="tile"><b id="producedTotal">–</b><span>orders produced</span></div>
  <div class="tile"><b id="storedTotal">–</b><span>orders stored</span></div>
  <div class="tile"><b id="dlqTotal">–</b><span>dead letters (users / products / orders / clicks)</span></div>
  <div class="tile"><b id="lagTotal">–</b><span>consumer lag</span></div>
  <div class="tile cache"><b id="cacheAge">–</b><span>cache age · <em id="cacheNext">–</em></span><div class="bar"><i id="cacheBar"></i></div></div>
  <div class="tile"><b id="hitRatio">–</b><span>cache hit ratio · <em id="cacheSize">–</em></span></div>
  <div class="tile" id="cdcTile" hidden><b id="cdcState">–</b><span>CDC connector · <em id="cdcDetail">–</em></span></div>
</section>
<section class="scenario">
  <label>시나리오 scenario: <b id="scenarioActive">–</b> <em id="scenarioMode"></em></label>
  <select id="scenarioPick"></select>
  <button id="scenarioApply">적용 apply</button>
  <button id="scenarioAuto">자동 auto</button>
  <span id="scenarioMsg"></span>
</section>
<section class="scenario schemas">
  <label>스키마 schemas: <b id="schemaTopics">–</b></label>
  <label>order schema <select id="schemaPick"></select></label>
  <button id="schemaApply">적용 apply</button>
  <button id="schemaAuto">기본 default</button>
  <span id="schemaMsg"></span>
</section>
<section class="grid">
  <figure><figcaption>주문/초 — produced and stored, last 10 minutes</figcaption><div id="rates" class="chart"></div></figure>
  <figure><figcaption>consumer lag per group/partition</figcaption><div id="lag" class="chart"></div></figure>
  <figure><figcaption>시간대별 주문 — orders per hour (last 24 h) against the volume curve</figcaption><div id="hours" class="chart"></div></figure>
  <figure><figcaption>최근 1분 카테고리 — category mix of the last minute's orders</figcaption><div id="categories" class="bars"></div></figure>
  <figure id="flinkFigure" hidden><figcaption>Flink — revenue per category, minute <b id="flinkMinute">–</b> (bun run flink) · job <b id="flinkJob">–</b></figcaption><div id="flinkRevenue" class="bars"></div></figure>
  <figure><figcaption>클릭 퍼널 — the last hour's sessions: view → cart → checkout → purchase (start:all --clicks)</figcaption><div id="funnel" class="bars"></div><div id="funnelCategories" class="bars"></div></figure>
  <figure><figcaption>등급 분포 — grade mix</figcaption><div id="grades" class="bars"></div></figure>
  <figure><figcaption>주문 상태 — orders by lifecycle status</figcaption><div id="statuses" class="bars"></div></figure>
  <figure><figcaption>processes — resident memory</figcaption><div id="processes" class="bars"></div></figure>
</section>
<script src="/assets/uPlot.iife.min.js"></script>
<script>${SCRIPT}</script>
</body>
</html>`;
}

const STYLE = `
body{font:14px/1.4 system-ui,"Nanum Gothic",sans-serif;margin:0;background:#f6f7f9;color:#1d2330}
header{display:flex;gap:24px;align-items:baseline;padding:14px 24px;background:#1d2330;color:#fff}
h1{margin:0;font-size:20px}h1 small{font-weight:400;opacity:.7;margin-left:6px}
#health span{display:inline-block;margin-right:8px;padding:2px 8px;border-radius:10px;font-size:12px}
.up{background:#2e7d32}.down{background:#c62828}#updated{margin-left:auto;opacity:.7;font-size:12px}
.tiles{display:flex;flex-wrap:wrap;gap:12px;padding:16px 24px 0}
.tile{background:#fff;border-radius:8px;padding:10px 14px;min-width:150px;box-shadow:0 1px 2px #0001}
.tile b{display:block;font-size:22px;font-variant-numeric:tabular-nums}.tile span{font-size:12px;color:#5b6475}
.bar{height:4px;background:#e3e6eb;border-radius:2px;margin-top:6px}.bar i{display:block;height:4px;background:#3367d6;border-radius:2px;width:0}
.scenario{display:flex;gap:10px;align-items:center;padding:14px 24px;flex-wrap:wrap}
.scenario select,.scenario button{font:inherit;padding:4px 8px}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(560px,1fr));gap:16px;padding:0 24px 24px}
figure{margin:0;background:#fff;border-radius:8px;padding:10px 12px;box-shadow:0 1px 2px #0001}
figcaption{font-weight:600;margin-bottom:6px}.chart{min-height:240px}
.bars .row{display:flex;align-items:center;gap:8px;font-size:12px;margin:2px 0}
.bars .row span:first-child{width:150px;text-align:right;white-space:nowrap;overflow:hidden}
.bars .row i{display:block;height:12px;background:#3367d6;border-radius:2px}
.bars .row em{font-style:normal;color:#5b6475;font-variant-numeric:tabular-nums}
`;

// Plain browser JavaScript: no build step, nothing to fetch but this service.
const SCRIPT = `
const $ = (id) => document.getElementById(id);
// labels come from the shop's data (product names, categories): text, never markup
const esc = (v) => String(v).replace(/[&<>"']/g, (ch) => "&#" + ch.charCodeAt(0) + ";");
const fmt = (n, d = 0) => n == null || Number.isNaN(n) ? "–" : Number(n).toLocaleString("en-US", { maximumFractionDigits: d, minimumFractionDigits: d });
const TOPICS = ["users", "products", "orders", "clicks"];
const GRADES = { BRONZE: "브론즈", SILVER: "실버", GOLD: "골드", VIP: "VIP" };
const STATUSES = { PAID: "결제 완료", SHIPPED: "배송 중", DELIVERED: "배송 완료", CANCELLED: "취소", REFUNDED: "반품·환불" };
const COLORS = ["#3367d6", "#e8710a", "#1e8e3e", "#d93025", "#9334e6", "#12b5cb", "#f9ab00", "#5f6368", "#c5221f"];
const charts = {};
window.__shopstream = { updates: 0, errors: [], last: null };

function chart(id, series, opts = {}) {
  const el = $(id);
  const width = () => Math.max(320, el.clientWidth);
  const u = new uPlot({
    width: width(), height: 230, series: [{}, ...series],
    axes: [opts.xAxis ?? {}, { size: 60 }],
    scales: { x: { time: opts.time !== false } },
    legend: { live: false },
  }, [[], ...series.map(() => [])], el);
  window.addEventListener("resize", () => u.setSize({ width: width(), height: 230 }));
  return u;
}

function bars(id, rows, label) {
  const max = Math.max(1, ...rows.map((r) => r.value));
  $(id).innerHTML = rows.map((r) => '<div class="row"><span>' + esc(r.label) + '</span><i style="width:' + (300 * r.value / max).toFixed(1) + 'px"></i><em>' + esc(label(r)) + '</em></div>').join("");
  $(id).dataset.total = String(rows.reduce((s, r) => s + r.value, 0));
}

function ensureCharts(state) {
  if (!charts.rates) {
    charts.rates = chart("rates", [
      { label: "orders produced/s", stroke: COLORS[0], width: 2 },
      { label: "orders stored/s", stroke: COLORS[2], width: 2 },
      { label: "users stored/s", stroke: COLORS[1] },
      { label: "products stored/s", stroke: COLORS[4] },
      { label: "dead-lettered/s", stroke: COLORS[3] },
    ]);
    charts.hours = chart("hours", [
      { label: "orders", stroke: COLORS[0], fill: COLORS[0] + "55", paths: uPlot.paths.bars({ size: [0.7] }) },
      { label: "volume curve", stroke: COLORS[1], width: 2 },
    ], { time: false, xAxis: { incrs: [1, 3, 6], values: (u, vals) => vals.map((v) => v + "시") } });
  }
  const lagKeys = Object.keys(state.series.lag);
  if (!charts.lag || charts.lagKeys !== lagKeys.join()) {
    if (charts.lag) charts.lag.destroy();
    charts.lag = chart("lag", lagKeys.map((k, i) => ({ label: k, stroke: COLORS[i % COLORS.length] })));
    charts.lagKeys = lagKeys.join();
  }
}

function render(state) {
  ensureCharts(state);
  const s = state.series;
  const t = s.t.map((ms) => ms / 1000);
  const dead = s.t.map((_, i) => TOPICS.reduce((a, k) => a + (s.deadLettered[k]?.[i] ?? 0), 0));
  charts.rates.setData([t, s.produced.orders ?? [], s.stored.orders ?? [], s.stored.users ?? [], s.stored.products ?? [], dead]);
  charts.lag.setData([t, ...Object.values(s.lag)]);
  charts.hours.setData([[...Array(24).keys()], state.hours.actual, state.hours.curve]);
  $("rates").dataset.points = String(t.length);
  $("rates").dataset.stored = String(state.totals.stored.orders ?? 0);

  const last = (arr) => arr && arr.length ? arr[arr.length - 1] : 0;
  $("ordersNow").textContent = fmt(last(s.stored.orders), 1);
  $("producedTotal").textContent = fmt(state.totals.produced.orders);
  $("storedTotal").textContent = fmt(state.totals.stored.orders);
  $("dlqTotal").textContent = TOPICS.map((k) => fmt(state.totals.deadLettered[k] ?? 0)).join(" / ");
  $("lagTotal").textContent = fmt(Object.values(s.lag).reduce((a, v) => a + last(v), 0));
  const c = state.cache;
  $("cacheAge").textContent = c.ageS == null ? "–" : fmt(c.ageS, 0) + " s";
  $("cacheNext").textContent = c.nextReloadS == null ? "not loaded" : "다음 교체 next reload in " + fmt(c.nextReloadS, 0) + " s";
  $("cacheBar").style.width = c.ageS == null ? "0" : Math.min(100, 100 * c.ageS / c.periodS).toFixed(1) + "%";
  $("hitRatio").textContent = c.hitRatio == null ? "–" : fmt(100 * c.hitRatio, 1) + " %";
  $("cacheSize").textContent = "users " + fmt(c.users) + " · products " + fmt(c.products) + " · 교체 " + fmt(c.reloads) + "회";

  const cdc = state.cdc;
  $("cdcTile").hidden = !cdc;
  if (cdc) {
    $("cdcState").textContent = cdc.connector;
    $("cdcDetail").textContent = "tasks " + (Object.entries(cdc.tasks).map(([k, n]) => n + " " + k).join(", ") || "none") +
      " · slot " + fmt(cdc.slotMb, 1) + " MiB WAL · restarts " + fmt(cdc.restarts);
  }
  $("health").innerHTML = Object.entries(state.health).map(([k, up]) => '<span class="' + (up ? "up" : "down") + '">' + esc(k) + (up ? " up" : " down") + "</span>").join("");
  $("updated").textContent = "updated " + new Date(state.at).toLocaleTimeString();

  const byId = Object.fromEntries(state.scenario.choices.map((x) => [x.id, x.name]));
  const active = state.scenario.active;
  $("scenarioActive").textContent = active ? byId[active] + " (" + active + ")" : "–";
  $("scenarioActive").dataset.id = active ?? "";
  $("scenarioMode").textContent = state.scenario.pinned ? "pinned" : "by the hour";
  const pick = $("scenarioPick");
  if (!pick.options.length) {
    pick.innerHTML = state.scenario.choices.map((x) => '<option value="' + esc(x.id) + '">' + esc(x.name) + " · " + esc(x.id) + "</option>").join("");
    if (active) pick.value = active;
  }

  const sc = state.schemas;
  $("schemaTopics").textContent = sc.topics.length
    ? sc.topics.map((t) => t.topic + " " + t.format + " v" + t.version + (t.schemaId ? " (id " + t.schemaId + ")" : "")).join(" · ")
    : "–";
  const vpick = $("schemaPick");
  if (!vpick.options.length) vpick.innerHTML = sc.versions.map((v) => '<option value="' + v + '">v' + v + "</option>").join("");
  $("schemaAuto").textContent = sc.pinned == null ? "기본 default (in use)" : "기본 default";

  bars("categories", state.categories.filter((x) => x.orders > 0).sort((a, b) => b.orders - a.orders).map((x) => ({ label: x.name, value: x.orders, code: x.code })), (r) => fmt(r.value));
  const STAGES = ["방문 session", "상품 조회 view", "장바구니 cart", "결제 시작 checkout", "구매 purchase"];
  const fl = state.flink;
  $("flinkFigure").hidden = !fl.job && !fl.categories.length;
  $("flinkJob").textContent = fl.job ?? "not running";
  $("flinkMinute").textContent = fl.minute == null ? "–" : new Date(fl.minute).toLocaleTimeString();
  bars("flinkRevenue", fl.categories.slice(0, 8).map((x) => ({ label: x.name, value: x.revenue, code: x.code })), (r) => "₩" + fmt(r.value));
  const f = state.funnel;
  bars("funnel", STAGES.map((label, i) => ({ label, value: f.stages[i] ?? 0 })), (r) => fmt(r.value) + (f.stages[0] ? " · " + fmt(100 * r.value / f.stages[0], 1) + " %" : ""));
  bars("funnelCategories", f.categories.slice(0, 8).map((x) => ({ label: x.name, value: x.purchasePct, code: x.code })), (r) => fmt(r.value, 1) + " % bought");
  bars("grades", ["BRONZE", "SILVER", "GOLD", "VIP"].map((g) => ({ label: GRADES[g] + " " + g, value: state.grades[g] ?? 0 })), (r) => fmt(r.value));
  bars("statuses", Object.keys(STATUSES).map((k) => ({ label: STATUSES[k] + " " + k, value: state.statuses[k] ?? 0 })), (r) => fmt(r.value));
  bars("processes", state.processes.map((p) => ({ label: p.service, value: p.rssMb })), (r) => fmt(r.value) + " MB");
}

async function poll() {
  try {
    const res = await fetch("/api/live");
    if (res.ok) {
      const state = await res.json();
      render(state);
      window.__shopstream.last = state;
      window.__shopstream.updates++;
    }
  } catch (err) {
    window.__shopstream.errors.push(String(err));
  }
  setTimeout(poll, 2000);
}

async function switchScenario(method, path) {
  const res = await fetch(path, { method });
  const body = await res.json();
  $("scenarioMsg").textContent = res.ok ? "→ " + body.active : body.error;
}
$("scenarioApply").onclick = () => switchScenario("PUT", "/scenario/" + encodeURIComponent($("scenarioPick").value));
$("scenarioAuto").onclick = () => switchScenario("DELETE", "/scenario");
async function switchSchema(method, path) {
  const res = await fetch(path, { method });
  const body = await res.json();
  $("schemaMsg").textContent = res.ok ? "→ " + (body.pinned == null ? "default" : "v" + body.pinned) : body.error;
}
$("schemaApply").onclick = () => switchSchema("PUT", "/schema-version/" + $("schemaPick").value);
$("schemaAuto").onclick = () => switchSchema("DELETE", "/schema-version");
poll();
`;

import type { Sql } from "./client.ts";
import { HOURLY_VOLUME } from "../domain/curves.ts";

// The shop's analyses as SQL, written once: the Grafana "Shop analytics" dashboard runs them as they
// are (Grafana's $__timeFilter macro picks the range), `bun run report` and the tests run them over
// a range of their own (bindRange). Every query reads only the tables, in Seoul time.

/**
 * A time series query returns a "time" column and value columns; a "metric" column, where there is
 * one, names the series each row belongs to (Grafana's convention for PostgreSQL).
 */
export interface AnalyticsQuery {
  id: string;
  /** The panel's title (Korean where the shop speaks Korean). */
  title: string;
  /** How the panel draws it: a time series, bars by a category column, or a table. */
  kind: "timeseries" | "bars" | "table";
  sql: string;
}

const SEOUL = "'Asia/Seoul'";
/** The day (Seoul) of a timestamp, as a timestamp Grafana can put on a time axis. */
const seoulDay = (col: string) => `(date_trunc('day', ${col} at time zone ${SEOUL}) at time zone ${SEOUL})`;

export const SHOP_QUERIES: readonly AnalyticsQuery[] = [
  {
    id: "daily",
    title: "일별 매출과 주문 (daily revenue and orders)",
    kind: "timeseries",
    sql: `select ${seoulDay("created_at")} as time, sum(total_amount)::bigint as revenue, count(*)::int as orders
from orders where $__timeFilter(created_at)
group by 1 order by 1`,
  },
  {
    id: "scenario_days",
    title: "시나리오별 일 주문 (orders per day under each scenario)",
    kind: "timeseries",
    sql: `select ${seoulDay("o.created_at")} as time, coalesce(d.scenario, 'live') as metric, count(*)::int as orders
from orders o left join scenario_days d on d.day = (o.created_at at time zone ${SEOUL})::date
where $__timeFilter(o.created_at)
group by 1, 2 order by 1, 2`,
  },
  {
    id: "hours",
    title: "시간대별 주문과 볼륨 곡선 (hour of day against the volume curve)",
    kind: "bars",
    sql: `with h as (
  select extract(hour from created_at at time zone ${SEOUL})::int as hour, count(*)::int as orders
  from orders where $__timeFilter(created_at) group by 1
), curve(hour, volume) as (values ${HOURLY_VOLUME.map((v, h) => `(${h}, ${v})`).join(", ")})
select c.hour, coalesce(h.orders, 0) as orders,
  round(c.volume * coalesce((select sum(orders) from h), 0) / ${HOURLY_VOLUME.reduce((a, b) => a + b, 0)})::int as curve
from curve c left join h using (hour) order by c.hour`,
  },
  {
    id: "categories",
    title: "카테고리 비중 (category share)",
    kind: "bars",
    sql: `select category, count(*)::int as orders, sum(total_amount)::bigint as revenue
from orders where $__timeFilter(created_at)
group by 1 order by 2 desc`,
  },
  {
    id: "grades",
    title: "주간 등급 변동 (users moving into each grade, per week)",
    kind: "timeseries",
    sql: `select date_trunc('week', changed_at) as time, new_grade as metric, count(*)::int as users
from grade_history where $__timeFilter(changed_at)
group by 1, 2 order by 1, 2`,
  },
  {
    id: "status_funnel",
    title: "주문 상태 퍼널 (order status funnel)",
    kind: "bars",
    sql: `select s.status, count(o.id)::int as orders
from (values (1, 'PAID'), (2, 'SHIPPED'), (3, 'DELIVERED'), (4, 'CANCELLED'), (5, 'REFUNDED')) as s(rank, status)
left join orders o on o.status = s.status and $__timeFilter(o.created_at)
group by s.rank, s.status order by s.rank`,
  },
  {
    id: "returns_by_category",
    title: "카테고리별 취소·반품률 (cancelled and refunded share by category)",
    kind: "table",
    sql: `select category, count(*)::int as orders,
  round(100.0 * count(*) filter (where status = 'CANCELLED') / count(*), 1) as cancelled_pct,
  round(100.0 * count(*) filter (where status = 'REFUNDED') / nullif(count(*) filter (where status in ('DELIVERED', 'REFUNDED')), 0), 1) as refunded_pct
from orders where $__timeFilter(created_at)
group by 1 order by 4 desc nulls last`,
  },
  {
    id: "region_age",
    title: "지역 × 연령대 (orders by region and age band)",
    kind: "table",
    sql: `select user_region as region, user_age_band as age_band, count(*)::int as orders, sum(total_amount)::bigint as revenue
from orders where $__timeFilter(created_at)
group by 1, 2 order by 1, 2`,
  },
  {
    id: "top_products",
    title: "인기 상품 (top products)",
    kind: "table",
    sql: `select p.name, p.brand, p.category, count(*)::int as orders, sum(o.total_amount)::bigint as revenue
from orders o join products p on p.id = o.product_id
where $__timeFilter(o.created_at)
group by 1, 2, 3 order by 4 desc limit 20`,
  },
  {
    id: "top_brands",
    title: "인기 브랜드 (top brands)",
    kind: "bars",
    sql: `select p.brand, count(*)::int as orders, sum(o.total_amount)::bigint as revenue
from orders o join products p on p.id = o.product_id
where $__timeFilter(o.created_at)
group by 1 order by 2 desc limit 15`,
  },
  // the clickstream (bun run start:all --clicks, historical --clicks): sessions by how far they went
  {
    id: "click_funnel",
    title: "클릭 퍼널 (sessions: view → cart → checkout → purchase)",
    kind: "bars",
    sql: `select s.stage, count(x.id)::int as sessions
from (values (0, '방문 session'), (1, '상품 조회 view'), (2, '장바구니 cart'), (3, '결제 시작 checkout'), (4, '구매 purchase')) as s(rank, stage)
left join sessions x on x.reached >= s.rank and $__timeFilter(x.started_at)
group by s.rank, s.stage order by s.rank`,
  },
  {
    id: "click_funnel_categories",
    title: "카테고리별 퍼널 (funnel per category, % of sessions)",
    kind: "table",
    sql: `select category, count(*)::int as sessions,
  round(100.0 * count(*) filter (where reached >= 1) / count(*), 1) as view_pct,
  round(100.0 * count(*) filter (where reached >= 2) / count(*), 1) as cart_pct,
  round(100.0 * count(*) filter (where reached >= 3) / count(*), 1) as checkout_pct,
  round(100.0 * count(*) filter (where reached >= 4) / count(*), 1) as purchase_pct
from sessions where $__timeFilter(started_at) and category is not null
group by 1 order by 2 desc`,
  },
  {
    id: "click_funnel_hours",
    title: "시간대별 퍼널 (sessions and purchases by hour of day)",
    kind: "bars",
    sql: `select extract(hour from started_at at time zone ${SEOUL})::int as hour, count(*)::int as sessions,
  count(*) filter (where reached >= 2)::int as carts, count(*) filter (where reached >= 4)::int as purchases
from sessions where $__timeFilter(started_at)
group by 1 order by 1`,
  },
];

/** A query's SQL over [from, to): Grafana's macros replaced by the range itself. */
export function bindRange(sql: string, from: Date, to: Date): string {
  const literal = (d: Date) => `'${d.toISOString()}'::timestamptz`;
  return sql.replace(/\$__timeFilter\(([^)]+)\)/g, (_, col: string) => `${col} >= ${literal(from)} and ${col} < ${literal(to)}`);
}

/** Runs an analysis over [from, to). */
export function runQuery(sql: Sql, query: AnalyticsQuery, from: Date, to: Date): Promise<Record<string, unknown>[]> {
  return sql.unsafe(bindRange(query.sql, from, to));
}

/** Orders stored per Seoul hour 0–23 over the 24 hours before `at`: the live page's hour chart. */
export async function ordersByHour(sql: Sql, at: Date): Promise<number[]> {
  const hours = SHOP_QUERIES.find((q) => q.id === "hours") as AnalyticsQuery;
  const rows = await runQuery(sql, hours, new Date(at.getTime() - 24 * 3_600_000), at);
  const out = new Array<number>(24).fill(0);
  for (const r of rows) out[Number(r.hour)] = Number(r.orders);
  return out;
}

/** The last hour's sessions: how many reached each stage (session, view, cart, checkout, purchase), and each category's. */
export interface RecentFunnel {
  stages: number[];
  categories: { category: string; sessions: number; purchasePct: number }[];
}

export async function recentFunnel(sql: Sql, at: Date, seconds = 3600): Promise<RecentFunnel> {
  const from = new Date(at.getTime() - seconds * 1000);
  const byId = (id: string) => SHOP_QUERIES.find((q) => q.id === id) as AnalyticsQuery;
  const [stages, categories] = await Promise.all([
    runQuery(sql, byId("click_funnel"), from, at),
    runQuery(sql, byId("click_funnel_categories"), from, at),
  ]);
  return {
    stages: stages.map((r) => Number(r.sessions)),
    categories: categories.map((r) => ({
      category: String(r.category),
      sessions: Number(r.sessions),
      purchasePct: Number(r.purchase_pct),
    })),
  };
}

/** Orders of the last `seconds` before `at` per category: how the mix moves when the scenario switches. */
export async function recentCategoryMix(sql: Sql, at: Date, seconds = 60): Promise<Record<string, number>> {
  const categories = SHOP_QUERIES.find((q) => q.id === "categories") as AnalyticsQuery;
  const rows = await runQuery(sql, categories, new Date(at.getTime() - seconds * 1000), at);
  return Object.fromEntries(rows.map((r) => [String(r.category), Number(r.orders)]));
}

/** The Flink revenue job's latest minute (docs/flink.md): revenue and orders per category, from category_revenue_minute. */
export interface FlinkRevenue {
  minute: Date | null;
  categories: { category: string; orders: number; revenue: number }[];
}

/** The latest minute the Flink revenue job closed within the `minutes` before `at` (none: no job ran). */
export async function flinkRevenue(sql: Sql, at: Date, minutes = 10): Promise<FlinkRevenue> {
  const rows = await sql<{ minute: Date; category: string; orders: string; revenue: string }[]>`
    select minute, category, orders::text, revenue::text from category_revenue_minute
    where minute = (select max(minute) from category_revenue_minute
                    where minute > ${new Date(at.getTime() - minutes * 60_000)} and minute <= ${at})
    order by revenue desc`;
  return {
    minute: rows[0]?.minute ?? null,
    categories: rows.map((r) => ({ category: r.category, orders: Number(r.orders), revenue: Number(r.revenue) })),
  };
}

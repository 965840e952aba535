import type { Grade } from "../domain/types.ts";
import type { Sql } from "./client.ts";

// The reads the analyses and the live figures run (src/analytics/: the realism check and the report;
// src/metrics/: the last minute's orders, orders per status): the span of the
// stored orders, and the raw figures a realism check judges. The dashboards' own queries are SQL
// text shared with Grafana, beside this file (shop-queries.ts).

/** First and last order stored, of one source (live, historical) or all; nulls when there are none. */
export async function ordersSpan(
  sql: Sql,
  source: "live" | "historical" | null = null,
): Promise<{ first: Date | null; last: Date | null }> {
  const [span] = await sql<{ first: Date | null; last: Date | null }[]>`
    select min(created_at) as first, max(created_at) as last from orders where (${source}::text is null or source = ${source})`;
  return span ?? { first: null, last: null };
}

export async function countOrders(sql: Sql, from: Date, to: Date): Promise<number> {
  const [count] = await sql<{ n: number }[]>`select count(*)::int as n from orders where created_at >= ${from} and created_at < ${to}`;
  return count?.n ?? 0;
}

export interface RealismRows {
  perCustomer: { customers: number; orders: number; p50: number; p90: number; p99: number; max: number; top20: number };
  grades: { grade: Grade; n: number }[];
  categories: { category: string; n: number }[];
  orderHours: { hour: Date; n: number }[];
  /** Orders per Seoul hour of day. */
  seoulHours: { h: number; n: number }[];
  /** The most orders one customer placed on one Seoul calendar day. */
  busiestCustomerDay: number;
}

/** What a realism check judges, over the orders in [from, to) of `source` (all when null). */
export async function realismRows(sql: Sql, from: Date, to: Date, source: string | null): Promise<RealismRows> {
  const inScope = sql`created_at >= ${from} and created_at < ${to} and (${source}::text is null or source = ${source})`;
  const [perCustomer, grades, categories, orderHours, seoulHours, busiest] = await Promise.all([
    sql<RealismRows["perCustomer"][]>`
      with c as (select user_id, count(*)::int as n, sum(total_amount)::float8 as revenue from orders where ${inScope} group by user_id),
           ranked as (select revenue, row_number() over (order by revenue desc) as r, count(*) over () as k from c)
      select (select count(*)::int from c) as customers, coalesce((select sum(n)::int from c), 0) as orders,
             coalesce((select percentile_disc(0.5) within group (order by n) from c), 0) as p50,
             coalesce((select percentile_disc(0.9) within group (order by n) from c), 0) as p90,
             coalesce((select percentile_disc(0.99) within group (order by n) from c), 0) as p99,
             coalesce((select max(n) from c), 0) as max,
             coalesce((select sum(revenue) filter (where r <= ceil(k * 0.2)) / nullif(sum(revenue), 0) from ranked), 0)::float8 as top20`,
    sql<RealismRows["grades"]>`select grade, count(*)::int as n from users where created_at < ${to} group by grade`,
    sql<RealismRows["categories"]>`select category, count(*)::int as n from orders where ${inScope} group by category`,
    sql<
      RealismRows["orderHours"]
    >`select date_trunc('hour', created_at) as hour, count(*)::int as n from orders where ${inScope} group by 1`,
    sql<RealismRows["seoulHours"]>`
      select extract(hour from created_at at time zone 'Asia/Seoul')::int as h, count(*)::int as n from orders where ${inScope} group by 1`,
    sql<{ n: number }[]>`
      select coalesce(max(n), 0)::int as n from (
        select count(*) as n from orders where ${inScope} group by user_id, (created_at at time zone 'Asia/Seoul')::date) d`,
  ]);
  return {
    perCustomer: perCustomer[0] as RealismRows["perCustomer"],
    grades: [...grades],
    categories: [...categories],
    orderHours: [...orderHours],
    seoulHours: [...seoulHours],
    busiestCustomerDay: busiest[0]?.n ?? 0,
  };
}

/** The clickstream's funnel over the sessions started in [from, to) of `source` (all when null). */
export interface FunnelRows {
  sessions: number;
  events: number;
  /** Sessions that reached each stage or further: [landed, viewed, carted, checked out, bought]. */
  reached: [number, number, number, number, number];
  /** Per device: sessions and those that bought. */
  devices: { device: string; sessions: number; bought: number }[];
  /** Purchases whose order is not in the orders table. */
  orphanPurchases: number;
}

export async function funnelRows(sql: Sql, from: Date, to: Date, source: string | null): Promise<FunnelRows> {
  const inScope = sql`started_at >= ${from} and started_at < ${to} and (${source}::text is null or source = ${source})`;
  const [[totals], devices] = await Promise.all([
    sql<(Omit<FunnelRows, "devices" | "reached"> & { r1: number; r2: number; r3: number; r4: number })[]>`
      select count(*)::int as sessions, coalesce(sum(events), 0)::int as events,
             count(*) filter (where reached >= 1)::int as r1, count(*) filter (where reached >= 2)::int as r2,
             count(*) filter (where reached >= 3)::int as r3, count(*) filter (where reached >= 4)::int as r4,
             count(*) filter (where order_id is not null and not exists (select 1 from orders o where o.id = s.order_id))::int as "orphanPurchases"
        from sessions s where ${inScope}`,
    sql<FunnelRows["devices"]>`
      select device, count(*)::int as sessions, count(*) filter (where reached = 4)::int as bought
        from sessions where ${inScope} group by device order by device`,
  ]);
  const t = totals as NonNullable<typeof totals>;
  return {
    sessions: t.sessions,
    events: t.events,
    reached: [t.sessions, t.r1, t.r2, t.r3, t.r4],
    devices: [...devices],
    orphanPurchases: t.orphanPurchases,
  };
}

/** Orders created in the last minute, by the database's clock (the live page's rate). */
export async function ordersLastMinute(sql: Sql): Promise<number> {
  const [row] = await sql<{ n: number }[]>`select count(*)::int as n from orders where created_at > now() - interval '60 seconds'`;
  return row?.n ?? 0;
}

/** Orders per status: a scan of the whole table (read it sparingly). */
export async function ordersByStatus(sql: Sql): Promise<{ status: string; n: number }[]> {
  return [...(await sql<{ status: string; n: number }[]>`select status, count(*)::int as n from orders group by status`)];
}

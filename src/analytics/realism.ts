// How believable a stretch of the orders table is, in figures a person would check first: the grade
// mix, how orders and revenue spread over customers, category shares against their weights, the hour
// of day against the volume curve, and the busiest customer-day. Read-only SQL; the targets beside
// each figure are the ones the tests and `bun run realism` hold the generators to.
import { type FunnelRows, funnelRows, realismRows } from "../db/analytics.ts";
import { FUNNEL_STEPS } from "../domain/clickstream.ts";
import type { Sql } from "../db/client.ts";
import { CATEGORIES } from "../domain/categories.ts";
import { HOURLY_VOLUME } from "../domain/curves.ts";
import { ORDERS_PER_CUSTOMER_YEAR } from "../domain/order-generator.ts";
import { ORDERS_PER_CUSTOMER_DAY } from "../domain/order-spacing.ts";
import { BASELINE, categoryWeight, type Scenario, scenarioAt, scenarioForHour } from "../domain/scenarios.ts";
import { seoulHour } from "../domain/seoul-time.ts";
import type { Grade } from "../domain/types.ts";

export interface RealismScope {
  /** Orders with created_at in [from, to). */
  from: Date;
  to: Date;
  /** Only orders of this source ('live' or 'historical'); all when absent. */
  source?: "live" | "historical";
  /**
   * Live orders drawn on a --rate run's simulated clock, where the wall clock's hour ties no
   * scenario (src/pipeline/cache-follower.ts): their categories are judged against the baseline.
   */
  simulatedClock?: boolean;
}

export interface CategoryShare {
  code: string;
  share: number;
  /** Its order weight × the scenario of each hour the orders fell in, over the sum of those weights. */
  target: number;
}

export interface RealismFigures {
  days: number;
  orders: number;
  /** Users signed up by the end of the scope, by current grade. */
  users: number;
  grades: Record<Grade, number>;
  /** Customers with at least one order in the scope. */
  activeCustomers: number;
  /** Orders per active customer, scaled to 365 days. */
  ordersPerActiveCustomerPerYear: number;
  /** Orders per customer signed up by the end of the scope, scaled to 365 days: the shop's size against its volume. */
  ordersPerCustomerPerYear: number;
  ordersPerCustomer: { p50: number; p90: number; p99: number; max: number };
  /** Revenue share of the customers who spent most, the top fifth of active customers. */
  top20RevenueShare: number;
  categories: CategoryShare[];
  /** Pearson correlation of orders per Seoul hour with the hourly volume curve. */
  hourCorrelation: number;
  /** The most orders one customer placed on one Seoul calendar day. */
  maxOrdersPerCustomerDay: number;
  /** The clickstream's sessions started in the scope (none without --clicks). */
  funnel: FunnelRows;
}

export async function measureRealism(sql: Sql, scope: RealismScope): Promise<RealismFigures> {
  const { from, to } = scope;
  const source = scope.source ?? null;
  const {
    perCustomer: c,
    grades,
    categories,
    orderHours,
    seoulHours: hours,
    busiestCustomerDay,
  } = await realismRows(sql, from, to, source);
  const funnel = await funnelRows(sql, from, to, source);

  const days = (to.getTime() - from.getTime()) / 86_400_000;
  const gradeCounts: Record<Grade, number> = { BRONZE: 0, SILVER: 0, GOLD: 0, VIP: 0 };
  for (const g of grades) gradeCounts[g.grade] = g.n;
  const gradeTotal = Object.values(gradeCounts).reduce((a, b) => a + b, 0);
  // live orders follow the hour's preset (or a pinned one, which this cannot know), none on a
  // simulated clock; historical ones the calendar too
  const live = scope.simulatedClock ? () => BASELINE : (h: Date) => scenarioForHour(seoulHour(h)) ?? BASELINE;
  const target = expectedCategoryShares(orderHours, source === "live" ? live : scenarioAt);
  const byCategory = new Map(categories.map((r) => [r.category, r.n]));
  const byHour = new Array<number>(24).fill(0);
  for (const r of hours) byHour[r.h] = r.n;
  return {
    days,
    orders: c.orders,
    users: gradeTotal,
    grades: gradeCounts,
    activeCustomers: c.customers,
    ordersPerActiveCustomerPerYear: c.customers ? (c.orders / c.customers) * (365 / days) : 0,
    ordersPerCustomerPerYear: c.orders && gradeTotal ? (c.orders / gradeTotal) * (365 / days) : 0,
    ordersPerCustomer: { p50: c.p50, p90: c.p90, p99: c.p99, max: c.max },
    top20RevenueShare: c.top20,
    categories: CATEGORIES.map((k) => ({
      code: k.code,
      share: c.orders ? (byCategory.get(k.code) ?? 0) / c.orders : 0,
      target: target.get(k.code) ?? 0,
    })),
    hourCorrelation: pearson(byHour, HOURLY_VOLUME),
    maxOrdersPerCustomerDay: busiestCustomerDay,
    funnel,
  };
}

/**
 * What the generators aim at: each hour's orders split by the order weights × the scenario in force
 * then (a season, a sale, the late-night and dawn-delivery hours).
 */
function expectedCategoryShares(hours: readonly { hour: Date; n: number }[], scenarioOf: (hour: Date) => Scenario): Map<string, number> {
  const expected = new Map<string, number>(CATEGORIES.map((c) => [c.code, 0]));
  let total = 0;
  for (const { hour, n } of hours) {
    const scenario = scenarioOf(hour);
    const weights = CATEGORIES.map((c) => c.orderWeight * categoryWeight(scenario, c.code));
    const sum = weights.reduce((a, b) => a + b, 0);
    for (const [i, c] of CATEGORIES.entries()) expected.set(c.code, (expected.get(c.code) as number) + (n * (weights[i] as number)) / sum);
    total += n;
  }
  for (const [code, v] of expected) expected.set(code, total ? v / total : 0);
  return expected;
}

export interface RealismCheck {
  name: string;
  value: string;
  target: string;
  ok: boolean;
}

/** Each grade's share of all customers in a believable shop: most BRONZE, a thin top (docs/design.md, "Appetite"). */
export const GRADE_SHARES = { SILVER: [0.15, 0.3], GOLD: [0.03, 0.1], VIP: [0.005, 0.03] } as const;
/** The revenue share of the top fifth of active customers. */
export const TOP20_REVENUE = [0.6, 0.8] as const;

/** The figures against the targets a believable shop meets. */
export function judgeRealism(f: RealismFigures): RealismCheck[] {
  const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
  const largest = (Object.entries(f.grades) as [Grade, number][]).sort((a, b) => b[1] - a[1])[0]?.[0] ?? "BRONZE";
  const worstCategory = f.categories.reduce(
    (w, c) => (Math.abs(c.share - c.target) > Math.abs(w.share - w.target) ? c : w),
    f.categories[0] as CategoryShare,
  );
  const perYear = f.ordersPerCustomerPerYear;
  // a load run under --rate packs simulated weeks into real minutes: per year and per day mean nothing there
  const longEnough = f.days >= 28;
  const gradeMix = (["BRONZE", "SILVER", "GOLD", "VIP"] as const).map((g) => `${g} ${pct(f.users ? f.grades[g] / f.users : 0)}`).join(", ");
  return [
    { name: "largest grade", value: `${largest} (${gradeMix})`, target: "BRONZE", ok: largest === "BRONZE" },
    ...(["SILVER", "GOLD", "VIP"] as const).map((g) => {
      const [lo, hi] = GRADE_SHARES[g];
      const share = f.users ? f.grades[g] / f.users : 0;
      return { name: `${g} share`, value: pct(share), target: `${pct(lo)} – ${pct(hi)}`, ok: share >= lo && share <= hi };
    }),
    {
      name: "orders per customer a year",
      value: `${perYear.toFixed(2)} (${f.ordersPerActiveCustomerPerYear.toFixed(2)} per active customer; p50 ${f.ordersPerCustomer.p50}, p90 ${f.ordersPerCustomer.p90}, max ${f.ordersPerCustomer.max} in the period)`,
      target: longEnough ? `${ORDERS_PER_CUSTOMER_YEAR} ± 30 %` : "not judged under 28 days of orders",
      ok: !longEnough || Math.abs(perYear / ORDERS_PER_CUSTOMER_YEAR - 1) <= 0.3,
    },
    {
      name: "revenue of the top 20 % of customers",
      value: pct(f.top20RevenueShare),
      target: `${pct(TOP20_REVENUE[0])} – ${pct(TOP20_REVENUE[1])} (Pareto-like)`,
      ok: f.top20RevenueShare >= TOP20_REVENUE[0] && f.top20RevenueShare <= TOP20_REVENUE[1],
    },
    {
      name: "category shares",
      value: `largest gap ${worstCategory.code} ${pct(worstCategory.share)} vs ${pct(worstCategory.target)}`,
      target: "each within ± 2 pp of weight × scenario",
      ok: f.categories.every((c) => Math.abs(c.share - c.target) <= 0.02),
    },
    { name: "hour of day vs volume curve", value: `r = ${f.hourCorrelation.toFixed(3)}`, target: "r >= 0.9", ok: f.hourCorrelation >= 0.9 },
    {
      name: "busiest customer-day",
      value: `${f.maxOrdersPerCustomerDay} orders`,
      target: longEnough ? `<= ${ORDERS_PER_CUSTOMER_DAY}` : "not judged under 28 days of orders",
      ok: !longEnough || f.maxOrdersPerCustomerDay <= ORDERS_PER_CUSTOMER_DAY,
    },
    ...judgeFunnel(f.funnel),
  ];
}

/** A session's chance to buy, and the page events behind each purchase (docs/design.md, "Clickstream"). */
export const CONVERSION = [0.05, 0.12] as const;
export const EVENTS_PER_PURCHASE = [20, 50] as const;
/** How far a measured step rate may be from the stated one. */
const STEP_TOLERANCE = 0.05;

/** The funnel against its stated rates; one line saying there is none when the scope holds no sessions. */
export function judgeFunnel(f: FunnelRows): RealismCheck[] {
  if (f.sessions === 0) return [{ name: "clickstream", value: "no sessions in scope", target: "judged when run with --clicks", ok: true }];
  const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
  const [sessions, viewed, carted, checkedOut, bought] = f.reached;
  const rate = (a: number, b: number) => (b ? a / b : 0);
  const step = (name: string, value: number, stated: number): RealismCheck => ({
    name,
    value: pct(value),
    target: `${pct(stated)} ± ${STEP_TOLERANCE * 100} pp`,
    ok: Math.abs(value - stated) <= STEP_TOLERANCE,
  });
  const conversion = rate(bought, sessions);
  const perPurchase = rate(f.events, bought);
  const byDevice = new Map(f.devices.map((d) => [d.device, rate(d.bought, d.sessions)]));
  const [app, desktop, web] = [byDevice.get("app") ?? 0, byDevice.get("desktop") ?? 0, byDevice.get("mobile_web") ?? 0];
  return [
    {
      name: "session conversion",
      value: `${pct(conversion)} of ${sessions.toLocaleString("en-US")} sessions`,
      target: `${pct(CONVERSION[0])} – ${pct(CONVERSION[1])}`,
      ok: conversion >= CONVERSION[0] && conversion <= CONVERSION[1],
    },
    {
      name: "page events per purchase",
      value: perPurchase.toFixed(1),
      target: `${EVENTS_PER_PURCHASE[0]} – ${EVENTS_PER_PURCHASE[1]}`,
      ok: perPurchase >= EVENTS_PER_PURCHASE[0] && perPurchase <= EVENTS_PER_PURCHASE[1],
    },
    step("funnel: product view / session", rate(viewed, sessions), FUNNEL_STEPS.view),
    step("funnel: checkout / cart", rate(checkedOut, carted), FUNNEL_STEPS.checkout),
    step("funnel: purchase / checkout", rate(bought, checkedOut), FUNNEL_STEPS.purchase),
    {
      name: "conversion by device",
      value: `app ${pct(app)}, desktop ${pct(desktop)}, mobile web ${pct(web)}`,
      target: "app > desktop > mobile web",
      ok: app > desktop && desktop > web,
    },
    {
      name: "purchases without their order",
      value: String(f.orphanPurchases),
      target: "0",
      ok: f.orphanPurchases === 0,
    },
  ];
}

export function pearson(x: readonly number[], y: readonly number[]): number {
  const n = x.length;
  const mx = x.reduce((a, b) => a + b, 0) / n;
  const my = y.reduce((a, b) => a + b, 0) / n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    sxy += (x[i]! - mx) * (y[i]! - my);
    sxx += (x[i]! - mx) ** 2;
    syy += (y[i]! - my) ** 2;
  }
  return sxx && syy ? sxy / Math.sqrt(sxx * syy) : 0;
}

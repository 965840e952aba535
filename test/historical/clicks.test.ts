import { afterAll, beforeAll, expect, test } from "bun:test";
import { judgeFunnel, measureRealism } from "../../src/analytics/realism.ts";
import { loadConfig } from "../../src/config.ts";
import type { Sql } from "../../src/db/client.ts";
import { seedCatalogue } from "../../src/db/seed.ts";
import { resolvePeriod } from "../../src/historical/plan.ts";
import { type HistoricalOptions, type HistoricalResult, resetHistorical, runHistorical } from "../../src/historical/run.ts";
import { createTestDatabase, type TestDatabase } from "../../support/db.ts";

// `bun run historical --clicks`: the sessions and page events behind every order of the period,
// written by COPY beside the orders. Ten simulated days at scale 2 (≈1,500 orders, ~60,000 clicks).

const PERIOD = resolvePeriod({ year: 2025, days: 10 }, new Date("2026-06-01T00:00:00Z"));
const OPTS: HistoricalOptions = {
  seed: "7",
  period: PERIOD,
  scale: 2,
  newUsersPerDay: 20,
  topN: loadConfig({}).producerTopN,
  clicks: true,
};

let db: TestDatabase;
let first: Extract<HistoricalResult, { status: "done" | "interrupted" }>;

async function clickChecksum(sql: Sql): Promise<string> {
  const [row] = await sql<{ clicks: string; sessions: string }[]>`
    select (select md5(string_agg(c::text, '|' order by c.id)) from click_events c) as clicks,
           (select md5(string_agg(s::text, '|' order by s.id)) from sessions s) as sessions`;
  return `${row!.clicks}/${row!.sessions}`;
}

/** The year's orders, customers and grade history. */
async function shopChecksum(sql: Sql): Promise<string> {
  const [row] = await sql<{ orders: string; users: string; history: string }[]>`
    select (select md5(string_agg((to_jsonb(o) - 'session_id')::text, '|' order by o.id)) from orders o where source = 'historical') as orders,
           (select md5(string_agg(u.id || u.created_at::text || u.email || u.grade, '|' order by u.id)) from users u) as users,
           (select md5(string_agg(h.user_id || h.new_grade || h.changed_at::text, '|' order by h.user_id, h.changed_at)) from grade_history h where reason = 'historical') as history`;
  return `${row!.orders}/${row!.users}/${row!.history}`;
}

beforeAll(async () => {
  db = await createTestDatabase("historical_clicks");
  await seedCatalogue(db.sql, { seed: "7", users: 2_000, products: 1_500, now: PERIOD.end });
  const r = await runHistorical(db.sql, OPTS);
  if (r.status !== "done") throw new Error(`expected a finished run, got ${JSON.stringify(r)}`);
  first = r;
}, 180_000);

afterAll(async () => {
  await db.drop();
}, 30_000);

test("every order has the session it was bought in, every purchase its order, every session its events", async () => {
  expect(first.orders).toBeGreaterThan(1000);
  const [c] = await db.sql`
    select (select count(*) from orders where source = 'historical')::int as orders,
           (select count(*) from click_events)::int as clicks,
           (select count(*) from sessions)::int as sessions,
           (select count(*) from orders o where not exists (select 1 from sessions s where s.order_id = o.id))::int as orders_without_session,
           (select count(*) from orders o where o.session_id is distinct from (select s.id from sessions s where s.order_id = o.id))::int as wrong_session,
           (select count(*) from click_events e where e.type = 'purchase' and not exists (select 1 from orders o where o.id = e.order_id))::int as purchases_without_order,
           (select count(*) from sessions s join orders o on o.id = s.order_id
             where s.user_id <> o.user_id or s.category <> o.category or s.ended_at <> o.created_at)::int as mismatched,
           (select count(*) from sessions s where s.events <> (select count(*) from click_events e where e.session_id = s.id))::int as unfolded,
           (select count(*) from click_events where source <> 'historical')::int as not_historical`;
  expect(c).toEqual({
    orders: first.orders,
    clicks: first.clicks,
    sessions: first.sessions,
    orders_without_session: 0,
    wrong_session: 0,
    purchases_without_order: 0,
    mismatched: 0,
    unfolded: 0,
    not_historical: 0,
  });
  // 20–50 events an order, a few sessions in a hundred buy, every event inside the period
  expect(first.clicks / first.orders).toBeGreaterThan(20);
  expect(first.clicks / first.orders).toBeLessThan(50);
  expect(first.orders / first.sessions).toBeGreaterThan(0.05);
  expect(first.orders / first.sessions).toBeLessThan(0.12);
  const [span] = await db.sql`select min(at) as first, max(at) as last from click_events`;
  expect(span!.first.getTime()).toBeGreaterThan(PERIOD.start.getTime() - 10 * 60_000);
  expect(span!.last.getTime()).toBeLessThan(PERIOD.end.getTime());
  // every customer who signed up in the period did so in a session of theirs, at that very moment
  const [signUps] = await db.sql`
    select count(*)::int as n, count(u.id)::int as stored, count(*) filter (where u.created_at = e.at)::int as on_time
      from click_events e left join users u on u.id = e.user_id where e.type = 'sign_up'`;
  expect(signUps).toEqual({ n: first.users, stored: first.users, on_time: first.users });
  // each of those sessions browsed the day's catalogue and filled a cart first, the first week's too
  const [carts] = await db.sql`
    select count(*)::int as n from sessions s where exists (select 1 from click_events e where e.session_id = s.id and e.type = 'sign_up') and s.reached < 2`;
  expect(carts!.n).toBe(0);
});

test("`bun run realism` judges the year's funnel: every stated rate met", async () => {
  const figures = await measureRealism(db.sql, { from: PERIOD.start, to: PERIOD.end, source: "historical" });
  const funnel = judgeFunnel(figures.funnel);
  expect(funnel.map((c) => c.name)).toContain("session conversion");
  expect(funnel.filter((c) => !c.ok)).toEqual([]);
  // a purchase whose order is missing is caught
  const [bought] = await db.sql`select id, order_id from sessions where order_id is not null order by id limit 1`;
  await db.sql`update sessions set order_id = 'O_gone' where id = ${bought!.id}`;
  const broken = judgeFunnel((await measureRealism(db.sql, { from: PERIOD.start, to: PERIOD.end, source: "historical" })).funnel);
  await db.sql`update sessions set order_id = ${bought!.order_id} where id = ${bought!.id}`;
  expect(broken.filter((c) => !c.ok).map((c) => c.name)).toEqual(["purchases without their order"]);
});

test("the same seed writes the same clicks; a reset removes them with the orders", async () => {
  const before = await clickChecksum(db.sql);
  const again = await runHistorical(db.sql, { ...OPTS, reset: true });
  expect(again.status).toBe("done");
  expect(await clickChecksum(db.sql)).toBe(before);
  // a run with the clickstream is not the run without it, but its orders (all but the session each
  // was placed in), customers and grades are the same
  await expect(runHistorical(db.sql, { ...OPTS, clicks: false })).rejects.toThrow(/another run .*with its clickstream/);
  const withClicks = await shopChecksum(db.sql);
  expect((await runHistorical(db.sql, { ...OPTS, clicks: false, reset: true })).status).toBe("done");
  expect(await shopChecksum(db.sql)).toBe(withClicks);
  const [named] = await db.sql`select count(*)::int as n from orders where source = 'historical' and session_id is not null`;
  expect(named!.n).toBe(0);
  await resetHistorical(db.sql);
  const [left] = await db.sql`select (select count(*) from click_events)::int as clicks, (select count(*) from sessions)::int as sessions`;
  expect(left).toEqual({ clicks: 0, sessions: 0 });
}, 180_000);

import { loadConfig } from "../../src/config.ts";
import { afterAll, beforeAll, expect, test } from "bun:test";
import type { Sql } from "../../src/db/client.ts";
import { seedCatalogue } from "../../src/db/seed.ts";
import { DAY_MS, planDays, resolvePeriod } from "../../src/historical/plan.ts";
import { type HistoricalOptions, type HistoricalResult, resetHistorical, runHistorical } from "../../src/historical/run.ts";
import { createTestDatabase, type TestDatabase } from "../../support/db.ts";
import { gradeDifferences, gradesByRule } from "../support/grades.ts";
import { planLifecycle } from "../../src/lifecycle/plan.ts";
import { expectCourse, storedOrders, storedSteps } from "../support/lifecycle.ts";

// 30 simulated days at scale 7 (≈20,000 orders) over a small catalogue: integrity, existence,
// grades against an independent SQL statement, the 7-day cadence, idempotence, reset, determinism.

const PERIOD = resolvePeriod({ year: 2025, days: 30 }, new Date("2026-06-01T00:00:00Z"));
const OPTS: HistoricalOptions = { seed: "42", period: PERIOD, scale: 7, newUsersPerDay: 40, topN: loadConfig({}).producerTopN };
const PLANNED = planDays(PERIOD, OPTS.scale, 0).reduce((s, d) => s + d.orders, 0);
const LIVE_ORDER_AT = new Date("2026-03-01T03:00:00Z"); // after the period: must survive every reset

let db: TestDatabase;
let first: HistoricalResult;
let firstChecksum: string;

async function checksum(sql: Sql): Promise<string> {
  const [row] = await sql<{ orders: string; events: string; users: string; history: string }[]>`
    select (select md5(string_agg(o::text, '|' order by o.id)) from orders o where source = 'historical') as orders,
           (select md5(string_agg(e.order_id || e.to_status || e.at::text || e.reason, '|' order by e.order_id, e.to_status))
              from order_events e where source = 'historical') as events,
           (select md5(string_agg(u.id || u.created_at::text || u.email, '|' order by u.id)) from users u where source = 'historical') as users,
           (select md5(string_agg(h.user_id || h.old_grade || h.new_grade || h.changed_at::text, '|' order by h.user_id, h.changed_at))
              from grade_history h where reason = 'historical') as history`;
  return `${row!.orders}/${row!.events}/${row!.users}/${row!.history}`;
}

function done(r: HistoricalResult) {
  if (r.status !== "done") throw new Error(`expected a finished run, got ${JSON.stringify(r)}`);
  return r;
}

beforeAll(async () => {
  db = await createTestDatabase("historical");
  await seedCatalogue(db.sql, { seed: "42", users: 3_000, products: 2_000, now: PERIOD.end });
  // one live order, outside the simulated month, on a user and a product that exist by then
  const [u] = await db.sql`select id from users where created_at < ${PERIOD.start} order by id limit 1`;
  const [p] = await db.sql`select id, category from products where created_at < ${PERIOD.start} order by id limit 1`;
  await db.sql`insert into orders (id, user_id, product_id, quantity, unit_price, shipping_cost, discount_amount, total_amount, payment_method, status, created_at, category, user_region, user_gender, user_age_band)
               values ('O_live', ${u!.id}, ${p!.id}, 1, 10000, 0, 0, 10000, 'CARD', 'PAID', ${LIVE_ORDER_AT}, ${p!.category}, '서울', 'F', '30s')`;
  first = await runHistorical(db.sql, OPTS);
  firstChecksum = await checksum(db.sql);
}, 180_000); // a budget for a loaded CI machine, not a speed check

afterAll(async () => {
  await db.drop();
}, 30_000);

test("writes the planned orders and sign-ups; every order's user and product exist, and existed first", async () => {
  const r = done(first);
  expect(r.orders).toBe(PLANNED);
  expect(PLANNED).toBeGreaterThan(19_000);
  expect(r.users).toBe(30 * 40);
  expect(r.unplaced).toBe(0);
  expect(r.gradeMismatches).toBe(0);
  expect(r.gradeChecks).toBe(2); // the 4th weekly checkpoint and the last: every user's grade against the updater's SQL
  const [c] = await db.sql`
    select count(*)::int as orders,
           count(*) filter (where u.id is null or p.id is null)::int as dangling,
           count(*) filter (where o.created_at < u.created_at)::int as before_user,
           count(*) filter (where o.created_at < p.created_at)::int as before_product,
           count(*) filter (where o.created_at < ${PERIOD.start} or o.created_at >= ${PERIOD.end})::int as outside,
           count(distinct o.user_id)::int as buyers, count(distinct o.product_id)::int as products
    from orders o left join users u on u.id = o.user_id left join products p on p.id = o.product_id
    where o.source = 'historical'`;
  expect(c).toMatchObject({ orders: PLANNED, dangling: 0, before_user: 0, before_product: 0, outside: 0 });
  // snapshot columns agree with the rows they were taken from
  const [snap] = await db.sql`
    select count(*) filter (where o.category <> p.category or o.user_region <> u.region or o.user_gender <> u.gender
                              or o.unit_price <> p.price or o.total_amount <> o.unit_price * o.quantity + o.shipping_cost - o.discount_amount)::int as bad
    from orders o join users u on u.id = o.user_id join products p on p.id = o.product_id where o.source = 'historical'`;
  expect(snap!.bad).toBe(0);
  // sign-ups appear inside the period, marked historical, and some of them buy
  const [s] = await db.sql`
    select count(*)::int as n, min(created_at) as first, max(created_at) as last,
           count(*) filter (where last_ordered_at is not null)::int as buyers
    from users where source = 'historical'`;
  expect(s!.n).toBe(1200);
  expect((s!.first as Date).getTime()).toBeGreaterThanOrEqual(PERIOD.start.getTime());
  expect((s!.last as Date).getTime()).toBeLessThan(PERIOD.end.getTime());
  expect(s!.buyers).toBeGreaterThan(0);
}, 30_000);

test("every user's grade equals an independent SQL computation at the final date", async () => {
  const stored = new Map((await db.sql`select id, grade from users`).map((r) => [r.id as string, r.grade as string]));
  expect(gradeDifferences(stored, await gradesByRule(db.sql, PERIOD.end))).toEqual([]);
  const dist = Object.fromEntries((await db.sql`select grade, count(*)::int as n from users group by grade`).map((r) => [r.grade, r.n]));
  expect(dist.SILVER + dist.GOLD).toBeGreaterThan(100); // a month at this scale lifts plenty of buyers
}, 30_000);

test("every order's lifecycle is its plan up to the period's end: a legal path in time order, the row at its last status", async () => {
  const orders = await storedOrders(db.sql, "historical");
  const steps = Map.groupBy(await storedSteps(db.sql), (e) => e.order_id);
  expect(orders.length).toBe(PLANNED);
  const end = PERIOD.end.getTime();
  const finals: Record<string, number> = {};
  for (const o of orders) {
    const history = steps.get(o.id) ?? [];
    expect(history.every((e) => e.source === "historical" && e.source_offset === null)).toBe(true);
    expectCourse(
      o,
      history,
      planLifecycle(o, `historical:${OPTS.seed}`).filter((t) => t.at.getTime() < end),
      end,
    );
    finals[o.status] = (finals[o.status] ?? 0) + 1;
  }
  // a month of a shop: most delivered, some cancelled and returned, the last days' orders still on their way
  expect(Object.keys(finals).sort()).toEqual(["CANCELLED", "DELIVERED", "PAID", "REFUNDED", "SHIPPED"]);
  expect(finals.DELIVERED!).toBeGreaterThan(PLANNED * 0.7);
}, 60_000);

test("grade_history follows the 7-day cadence and chains from each user's first grade to the current one", async () => {
  const stamps = (await db.sql`select distinct changed_at from grade_history where reason = 'historical' order by 1`).map((r) =>
    (r.changed_at as Date).getTime(),
  );
  const days = stamps.map((t) => (t - PERIOD.start.getTime()) / DAY_MS);
  expect(days).toEqual([7, 14, 21, 28, 30]);
  const history =
    await db.sql`select user_id, old_grade, new_grade from grade_history where reason = 'historical' order by user_id, changed_at`;
  expect(history.length).toBe(done(first).gradeChanges);
  const grades = new Map((await db.sql`select id, grade from users`).map((r) => [r.id as string, r.grade as string]));
  const last = new Map<string, string>();
  for (const h of history) {
    expect(h.old_grade).not.toBe(h.new_grade);
    expect(h.old_grade).toBe(last.get(h.user_id) ?? "BRONZE"); // everyone starts BRONZE in this catalogue
    last.set(h.user_id, h.new_grade);
  }
  for (const [id, grade] of last) expect([id, grades.get(id)]).toEqual([id, grade]);
}, 30_000);

test("at every weekly checkpoint, the grade on record is the one the rule gives at that instant", async () => {
  const stamps = (await db.sql`select distinct changed_at from grade_history where reason = 'historical' order by 1`).map(
    (r) => r.changed_at as Date,
  );
  const history = await db.sql`select user_id, new_grade, changed_at from grade_history where reason = 'historical' order by changed_at`;
  for (const at of stamps) {
    // the grade as of `at` from grade_history (everyone starts BRONZE), against the rule over the window ending at `at`
    const rule = await gradesByRule(db.sql, at);
    const asOf = new Map([...rule.keys()].map((id) => [id, "BRONZE"]));
    for (const h of history) if ((h.changed_at as Date).getTime() <= at.getTime()) asOf.set(h.user_id, h.new_grade);
    expect([at.toISOString(), gradeDifferences(asOf, rule)]).toEqual([at.toISOString(), []]);
    expect([...rule.values()].filter((g) => g !== "BRONZE").length).toBeGreaterThan(0);
  }
  expect(stamps.length).toBe(5);
}, 60_000);

test("last_ordered_at and order_count end consistent with the orders, live order included", async () => {
  const [u] = await db.sql`
    select count(*)::int as bad from users u
    left join (select user_id, max(created_at) as last_at from orders group by user_id) o on o.user_id = u.id
    where u.last_ordered_at is distinct from o.last_at`;
  const [p] = await db.sql`
    select count(*)::int as bad from products p
    left join (select product_id, count(*)::int as n from orders group by product_id) o on o.product_id = p.id
    where p.order_count <> coalesce(o.n, 0)`;
  expect([u!.bad, p!.bad]).toEqual([0, 0]);
  // popularity emerges: the most-ordered product far ahead of the typical ordered one
  const [pop] =
    await db.sql`select max(order_count)::int as top, percentile_cont(0.5) within group (order by order_count) as median from products where order_count > 0`;
  expect(pop!.top).toBeGreaterThan(3 * Number(pop!.median));
}, 30_000);

test("the same run again is skipped; a different one needs --reset", async () => {
  const again = await runHistorical(db.sql, OPTS);
  expect(again.status).toBe("skipped");
  expect(await checksum(db.sql)).toBe(firstChecksum);
  await expect(runHistorical(db.sql, { ...OPTS, seed: "7" })).rejects.toThrow("--reset");
}, 30_000);

test("same seed, same rows: a reset run and an interrupted-then-resumed run reproduce the orders exactly", async () => {
  done(await runHistorical(db.sql, { ...OPTS, reset: true }));
  expect(await checksum(db.sql)).toBe(firstChecksum);

  const stop = new AbortController();
  const cut = await runHistorical(db.sql, {
    ...OPTS,
    reset: true,
    signal: stop.signal,
    onProgress: (p) => {
      if (p.daysDone >= 10) stop.abort();
    },
  });
  expect(cut.status).toBe("interrupted");
  const [{ n }] = (await db.sql`select count(*)::int as n from orders where source = 'historical'`) as unknown as [{ n: number }];
  expect(n).toBeGreaterThan(0);
  expect(n).toBeLessThan(PLANNED);
  // a run that fails mid-week gives its COPY up and releases the connections
  await expect(
    runHistorical(db.sql, {
      ...OPTS,
      onProgress: (p) => {
        if (p.daysDone === 3) throw new Error("boom");
      },
    }),
  ).rejects.toThrow("boom");
  // the unfinished run is cleared and redone without --reset
  done(await runHistorical(db.sql, OPTS));
  expect(await checksum(db.sql)).toBe(firstChecksum);
}, 300_000); // four runs of the month: about 6 s alone, over 60 s in a loaded CI; a budget, not a speed check

test("one run at a time: a second writer is refused", async () => {
  const other = await db.sql.reserve();
  try {
    await other`select pg_advisory_lock(72016003)`;
    await expect(runHistorical(db.sql, OPTS)).rejects.toThrow("another historical run");
    await expect(resetHistorical(db.sql)).rejects.toThrow("another historical run");
  } finally {
    await other`select pg_advisory_unlock(72016003)`;
    other.release();
  }
}, 30_000);

test("reset clears only historical rows and puts the aggregates back", async () => {
  const cleared = await resetHistorical(db.sql);
  expect(cleared.orders).toBe(PLANNED);
  expect(cleared.users).toBe(1200);
  const [c] = await db.sql`
    select (select count(*) from orders)::int as orders, (select count(*) from order_events)::int as events,
           (select count(*) from users where source = 'historical')::int as signups,
           (select count(*) from grade_history where reason = 'historical')::int as history,
           (select count(*) from users where last_ordered_at is not null)::int as buyers,
           (select coalesce(sum(order_count), 0) from products)::int as counted,
           (select count(*) from users where grade <> 'BRONZE')::int as graded,
           (select count(*) from shopstream_meta where key = 'historical')::int as meta`;
  expect(c).toEqual({ orders: 1, events: 0, signups: 0, history: 0, buyers: 1, counted: 1, graded: 0, meta: 0 });
  const [live] = await db.sql`select u.last_ordered_at from orders o join users u on u.id = o.user_id where o.id = 'O_live'`;
  expect(live!.last_ordered_at).toEqual(LIVE_ORDER_AT);
}, 30_000);

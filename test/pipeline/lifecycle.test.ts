import { afterAll, beforeAll, expect, test } from "bun:test";
import { connectRedis } from "../../src/cache/client.ts";
import { ShopClock } from "../../src/cache/shop-clock.ts";
import { planLifecycle, type Transition } from "../../src/lifecycle/plan.ts";
import type { OrderStatus } from "../../src/domain/types.ts";
import { encode } from "../../src/kafka/envelope.ts";
import { readMetricSnapshots } from "../../src/metrics/publish.ts";
import { type ReadMessage, readTopic } from "../../src/kafka/read-topic.ts";
import type { TestDatabase } from "../../support/db.ts";
import { createdIds } from "../../support/events.ts";
import { order as orderFixture } from "../support/fixtures.ts";
import { gradeDifferences, gradesByRule } from "../support/grades.ts";
import { expectCourse, type StoredOrder, storedOrders, storedSteps } from "../support/lifecycle.ts";
import { config, type TestTopics, waitForZeroLag } from "../support/kafka.ts";
import { openStage, type Stage } from "../support/stage.ts";
import { until } from "../support/until.ts";

// The order lifecycle end to end, accelerated: the producer publishes orders at a fixed rate, three
// orders consumers store them with their next step, the lifecycle service publishes each step as it
// falls due (killed and restarted mid-run), and every order runs its whole course. Then PostgreSQL's
// history is held against Kafka's records and against each order's plan, foreign steps are injected
// (redelivered, out of order, illegal, impossible), and the grade-updater against an independent SQL.

const SEED = "lifecycle-e2e";
// a week of delivery and returns in about 14 s
const SPEED = 100_000;
const ORDERS = 1000;
let stage: Stage;
let db: TestDatabase;
let t: TestTopics;
const start = (name: string, file: string, args: string[], extra: Record<string, string> = {}) => stage.start(name, file, args, extra);

const ordersNow = () => storedOrders(db.sql);
const eventsNow = () => storedSteps(db.sql);
const plan = (o: StoredOrder): Transition[] => planLifecycle(o, SEED, SPEED);

beforeAll(async () => {
  // few customers, many orders each: grades move, and cancellations and returns decide some of them
  stage = await openStage({ label: "lifecycle_e2e", seed: SEED, users: 150, products: 400, cacheAll: true });
  ({ db, topics: t } = stage);
});

afterAll(() => stage?.close());

let published: ReadMessage[] = [];

test("every order runs its planned course: a legal history in order_events, equal to Kafka's steps, with the lifecycle service killed mid-run", async () => {
  const lifecycleEnv = { SPEED: String(SPEED) };
  for (const i of [1, 2, 3]) start(`orders-${i}`, "consumer.ts", ["orders"], { ...lifecycleEnv, INSTANCE: String(i) });
  const firstEmitter = start("lifecycle", "lifecycle.ts", [], lifecycleEnv);
  await Bun.sleep(2000); // the consumers join their group
  const producer = start("producer", "producer.ts", ["--rate", "50", "--count", String(ORDERS)]);

  // a run under way (orders stored, steps published) whatever the machine's load: then steps keep falling due
  await until(
    "orders stored and steps published",
    async () => {
      const [n] = await db.sql`select (select count(*) from orders)::int as orders, (select count(*) from order_events)::int as steps`;
      return n!.orders >= 200 && n!.steps >= 20;
    },
    { timeoutMs: 60_000, services: [producer, firstEmitter] },
  );
  firstEmitter.proc.kill("SIGKILL"); // wherever it is: mid-publish, mid-query
  await firstEmitter.proc.exited;
  const down = new Date();
  await Bun.sleep(5000); // steps fall due while nobody publishes them
  const up = new Date();
  const secondEmitter = start("lifecycle-2", "lifecycle.ts", [], lifecycleEnv);

  expect(await producer.proc.exited).toBe(0);
  // every order's whole course is done once nothing is scheduled any more and the consumers have caught up
  for (const deadline = Date.now() + 90_000; ; await Bun.sleep(500)) {
    const [left] = await db.sql`
      select count(*)::int as orders, count(*) filter (where next_status is not null)::int as scheduled from orders`;
    if (left!.orders === ORDERS && left!.scheduled === 0) break;
    if (Date.now() > deadline) throw new Error(`lifecycle not finished: ${JSON.stringify(left)}\n${secondEmitter.output().slice(-2000)}`);
  }
  await waitForZeroLag(t.admin, t.names, 60_000, ["orders"]);

  published = await readTopic(t.client, t.admin, t.names.topic("orders"));
  const orders = await ordersNow();
  const events = await eventsNow();
  // exactly once: the orders Kafka holds are the rows
  expect(orders.map((o) => o.id)).toEqual([...new Set(createdIds(published))].sort());

  // each row's history is a legal path from PAID, in time order, ending in its status: the order's own plan
  const byOrder = Map.groupBy(events, (e) => e.order_id);
  for (const o of orders) expectCourse(o, byOrder.get(o.id) ?? [], plan(o));
  const finals = Object.groupBy(orders, (o) => o.status);
  expect(Object.keys(finals).sort()).toEqual(["CANCELLED", "DELIVERED", "REFUNDED"]); // nothing left half-way
  expect(finals.DELIVERED!.length).toBeGreaterThan(ORDERS * 0.8);

  // Kafka's side: each recorded step points at the very record it was applied from, on its order's partition
  const byPlace = new Map(published.map((m) => [`${m.partition}:${m.offset}`, m]));
  const orderPartition = new Map(
    published.flatMap((m) => {
      const e = JSON.parse(m.value);
      return e.event_type === "order_created" ? [[e.data.id as string, m.partition]] : [];
    }),
  );
  for (const e of events) {
    const record = byPlace.get(`${e.source_partition}:${e.source_offset}`);
    expect(record, `${e.order_id} → ${e.to_status}`).toBeDefined();
    const value = JSON.parse(record!.value);
    expect([value.event_type, value.data.order_id, value.data.to]).toEqual(["order_status_changed", e.order_id, e.to_status]);
    expect(record!.partition).toBe(orderPartition.get(e.order_id)!);
  }
  const steps = published.map((m) => JSON.parse(m.value)).filter((v) => v.event_type === "order_status_changed");
  const stepKeys = new Set(steps.map((v) => `${v.data.order_id}:${v.data.to}`));
  expect(stepKeys.size).toBe(events.length); // every step in Kafka was applied, once
  expect([...stepKeys].sort()).toEqual(events.map((e) => `${e.order_id}:${e.to_status}`).sort());

  // the restarted service published what fell due while it was down
  const dueWhileDown = events.filter((e) => e.at >= down && e.at < up);
  expect(dueWhileDown.length).toBeGreaterThan(0);
  expect(dueWhileDown.every((e) => e.recorded_at >= up)).toBe(true);
  expect(secondEmitter.output()).toMatch(/publishing order lifecycle steps/);

  // what the consumers counted (shopstream_order_transitions_total{to}, shipped to Redis every 2 s) is what they recorded
  const recorded = Object.fromEntries(Object.entries(Object.groupBy(events, (e) => e.to_status)).map(([to, list]) => [to, list!.length]));
  const redis = connectRedis(config.redisUrl);
  let counted: Record<string, number> = {};
  for (const deadline = Date.now() + 15_000; Date.now() < deadline; await Bun.sleep(500)) {
    counted = transitionsCounted(await readMetricSnapshots(redis, stage.cachePrefix));
    if (Bun.deepEquals(counted, recorded)) break;
  }
  redis.disconnect();
  expect(counted).toEqual(recorded);

  expect(await readTopic(t.client, t.admin, t.names.dlq("orders"))).toHaveLength(0);
  for (const s of stage.services) expect(s.output()).not.toMatch(/\bO_[0-9a-f-]{8,}/); // no log line per order
}, 240_000);

/** shopstream_order_transitions_total summed over the processes' snapshots, by status reached. */
function transitionsCounted(snapshots: object[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const metrics of snapshots as { name: string; values: { labels: { to?: string }; value: number }[] }[][])
    for (const m of metrics)
      if (m.name === "shopstream_order_transitions_total")
        for (const v of m.values) if (v.labels.to && v.value > 0) out[v.labels.to] = (out[v.labels.to] ?? 0) + v.value;
  return out;
}

test("redelivered orders and steps change nothing; steps read out of order still apply in order; illegal and impossible ones are dead-lettered with the reason", async () => {
  const before = { orders: await ordersNow(), events: await eventsNow() };
  const producer = await t.producer();
  const topic = t.names.topic("orders");
  const send = (key: string, value: string) => producer.send(topic, { key, value });

  // 1. a hundred steps and fifty orders delivered again, as a replay after a crash would: an order
  // that has moved on since is not put back to PAID
  const kind = (m: ReadMessage) => JSON.parse(m.value).event_type as string;
  const replay = [
    ...published.filter((m) => kind(m) === "order_status_changed").slice(0, 100),
    ...published.filter((m) => kind(m) === "order_created").slice(0, 50),
  ].map((m) => send(m.key!, m.value));

  // 2. illegal, back in time, after cancellation: each refused
  const orders = before.orders;
  const delivered = orders.find((o) => o.status === "DELIVERED")!;
  const cancelled = orders.find((o) => o.status === "CANCELLED")!;
  const raw = (order_id: string, from: OrderStatus, to: OrderStatus, at: Date) =>
    JSON.stringify({
      v: 1,
      event_type: "order_status_changed",
      event_id: `${order_id}:${to}`,
      occurred_at: new Date().toISOString(),
      data: { order_id, from, to, at: at.toISOString(), reason: "injected" },
    });
  const refused = [
    send(delivered.user_id, raw(delivered.id, "PAID", "REFUNDED", new Date())),
    send(delivered.user_id, raw(delivered.id, "DELIVERED", "REFUNDED", new Date(delivered.delivered_at!.getTime() - 3_600_000))),
    send(cancelled.user_id, raw(cancelled.id, "PAID", "SHIPPED", new Date())),
  ];

  // 3. a new order, then its steps the wrong way round, all in one flush
  const buyer = orders[0]!;
  const [item] = await db.sql`select id from products where category = 'DETERGENT' limit 1`;
  let fresh: StoredOrder | undefined;
  let freshPlan: Transition[] = [];
  for (let i = 0; !fresh; i++) {
    const candidate = { ...buyer, id: `O_lifecycle_out_of_order_${i}`, category: "DETERGENT", created_at: new Date() };
    freshPlan = plan(candidate);
    if (freshPlan.map((s) => s.to).join() === "SHIPPED,DELIVERED") fresh = candidate;
  }
  const newOrder = orderFixture(fresh.id, buyer.user_id, item!.id, { category: "DETERGENT", created_at: fresh.created_at });
  const [ship, deliver] = freshPlan as [Transition, Transition];
  const asEvent = (s: Transition) => encode("orders", { order_id: fresh!.id, from: s.from, to: s.to, at: s.at, reason: s.reason });
  const outOfOrder = [
    send(buyer.user_id, encode("orders", newOrder)),
    send(buyer.user_id, asEvent(deliver)),
    send(buyer.user_id, asEvent(ship)),
  ];
  await Promise.all([...replay, ...refused, ...outOfOrder]);

  for (const deadline = Date.now() + 60_000; ; await Bun.sleep(500)) {
    const [row] = await db.sql`select status from orders where id = ${fresh.id}`;
    if (row?.status === "DELIVERED") break;
    if (Date.now() > deadline) throw new Error(`the out-of-order order is ${row?.status}`);
  }
  await waitForZeroLag(t.admin, t.names, 60_000, ["orders"]);

  // nothing that was there changed
  const after = { orders: await ordersNow(), events: await eventsNow() };
  expect(after.orders.filter((o) => o.id !== fresh.id)).toEqual(before.orders);
  expect(after.events.filter((e) => e.order_id !== fresh.id)).toEqual(before.events);
  // the new order went PAID → SHIPPED → DELIVERED although its steps were read the other way round
  expect(after.events.filter((e) => e.order_id === fresh.id).map((e) => [e.from_status, e.to_status, e.at.getTime()])).toEqual([
    ["PAID", "SHIPPED", ship.at.getTime()],
    ["SHIPPED", "DELIVERED", deliver.at.getTime()],
  ]);

  const dead = (await readTopic(t.client, t.admin, t.names.dlq("orders"))).map((m) => JSON.parse(m.value));
  expect(dead.map((d) => d.reason as string).sort()).toEqual([
    expect.stringMatching(/^DELIVERED → REFUNDED at .* goes back before the order's last change$/),
    expect.stringMatching(/^PAID → SHIPPED can never apply: the order is CANCELLED$/),
    expect.stringMatching(/^data\.to: illegal transition PAID → REFUNDED/),
  ]);
  expect(dead.every((d) => d.source.topic === topic && d.key !== null)).toBe(true);
}, 180_000);

test("the grade-updater's grades equal an independent SQL over the orders neither cancelled nor refunded, and each change says why", async () => {
  // the rule on the wall clock, as the SQL here computes it: the --rate producer's simulated clock
  // (src/cache/shop-clock.ts, its own suite in test/pipeline/rate-realism.test.ts) is cleared first
  const redis = connectRedis(config.redisUrl);
  await new ShopClock(redis, stage.cachePrefix).clear();
  redis.disconnect();
  const updater = start("grade-updater", "grade-updater.ts", [], { GRADE_INTERVAL_S: "3600" });
  await until("a grade run", () => /grade change\(s\)/.test(updater.output()), { services: [updater] });
  expect(await updater.stop()).toBe(0);
  const at = new Date();
  const actual = new Map((await db.sql`select id, grade from users`).map((r) => [r.id as string, r.grade as string]));
  expect(gradeDifferences(actual, await gradesByRule(db.sql, at))).toEqual([]);
  expect(new Set(actual.values()).size).toBeGreaterThan(1);

  // each change records the window the rule saw, counted here independently
  const history = await db.sql`
    select h.user_id, h.window_amount::bigint as amount, h.window_orders, h.excluded_orders,
      (select coalesce(sum(total_amount), 0)::bigint from orders o where o.user_id = h.user_id and o.status not in ('CANCELLED', 'REFUNDED')) as counted_amount,
      (select count(*)::int from orders o where o.user_id = h.user_id and o.status not in ('CANCELLED', 'REFUNDED')) as counted,
      (select count(*)::int from orders o where o.user_id = h.user_id and o.status in ('CANCELLED', 'REFUNDED')) as left_out
    from grade_history h`;
  expect(history.length).toBeGreaterThan(0);
  for (const h of history)
    expect([h.user_id, h.amount, h.window_orders, h.excluded_orders]).toEqual([h.user_id, h.counted_amount, h.counted, h.left_out]);
  expect(history.some((h) => h.excluded_orders > 0)).toBe(true);
}, 60_000);

import { afterAll, beforeAll, expect, test } from "bun:test";
import { isLegal, pathTo } from "../../src/domain/order-status.ts";
import { readTopic } from "../../src/kafka/read-topic.ts";
import type { TestDatabase } from "../../support/db.ts";
import { createdIds } from "../../support/events.ts";
import { type TestTopics, waitForSettled } from "../support/kafka.ts";
import { storedOrders, storedSteps } from "../support/lifecycle.ts";
import { openStage, type Stage } from "../support/stage.ts";
import { until } from "../support/until.ts";

// The lifecycle's clock changed across a restart with orders in flight: the consumers and the
// lifecycle service run under one SPEED, are stopped while orders wait for their next steps, and
// come back five times faster. A step planned under the new SPEED is never placed before the
// order's last change (it would be refused for ever): every order still runs its course to the
// end, with a legal history in time order, and nothing is dead-lettered.

const SEED = "speed-change";
const SLOW = 20_000;
const FAST = 100_000;
const ORDERS = 300;
let stage: Stage;
let db: TestDatabase;
let t: TestTopics;
const start = (name: string, file: string, args: string[], extra: Record<string, string> = {}) => stage.start(name, file, args, extra);

beforeAll(async () => {
  stage = await openStage({ label: "speed_change", seed: SEED, users: 150, products: 400, cacheAll: true });
  ({ db, topics: t } = stage);
});

afterAll(() => stage?.close());

test("a faster --speed after a restart, with orders in flight: every order still runs its course, nothing refused", async () => {
  const pipeline = (speed: number, round: number) => [
    ...[1, 2].map((i) => start(`orders-${round}-${i}`, "consumer.ts", ["orders", "--speed", String(speed)], { INSTANCE: String(i) })),
    start(`lifecycle-${round}`, "lifecycle.ts", ["--speed", String(speed)]),
  ];
  const slow = pipeline(SLOW, 1);
  await Bun.sleep(2000); // the consumers join their group
  const producer = start("producer", "producer.ts", ["--rate", "50", "--count", String(ORDERS)]);
  expect(await producer.proc.exited).toBe(0);
  // the first orders shipped, most still waiting for a step planned under SLOW (polled: on a loaded
  // machine the first step comes seconds later than on an idle one)
  const midway = async () =>
    (
      await db.sql<{ moved: number; waiting: number }[]>`
        select count(*) filter (where status <> 'PAID')::int as moved, count(*) filter (where next_status is not null)::int as waiting from orders`
    )[0]!;
  await until("the first order moved under SLOW", async () => (await midway()).moved > 0, { timeoutMs: 60_000 });
  expect((await midway()).waiting).toBeGreaterThan(ORDERS / 2);
  for (const s of slow) expect(await s.stop()).toBe(0);

  pipeline(FAST, 2);
  for (const deadline = Date.now() + 120_000; ; await Bun.sleep(500)) {
    const [left] = await db.sql`select count(*) filter (where next_status is not null)::int as scheduled from orders`;
    if (left!.scheduled === 0) break;
    if (Date.now() > deadline) throw new Error(`${left!.scheduled} order(s) still scheduled after two minutes`);
  }
  await waitForSettled(t, db.sql, ["orders"]);

  const published = await readTopic(t.client, t.admin, t.names.topic("orders"));
  const orders = await storedOrders(db.sql);
  expect(orders.map((o) => o.id)).toEqual([...new Set(createdIds(published))].sort());
  const byOrder = Map.groupBy(await storedSteps(db.sql), (e) => e.order_id);
  for (const o of orders) {
    // a step planned under the new SPEED before its predecessor is placed at that very instant: ties
    // go by the path's order
    const steps = (byOrder.get(o.id) ?? []).sort(
      (a, b) => a.at.getTime() - b.at.getTime() || pathTo(a.from_status).length - pathTo(b.from_status).length,
    );
    let status = "PAID";
    let at = o.created_at.getTime();
    for (const s of steps) {
      expect([o.id, s.from_status, isLegal(s.from_status, s.to_status)]).toEqual([o.id, status, true]);
      expect(s.at.getTime()).toBeGreaterThanOrEqual(at); // never before the change it follows
      status = s.to_status;
      at = s.at.getTime();
    }
    expect([o.id, o.status]).toEqual([o.id, status]);
    expect(["CANCELLED", "DELIVERED", "REFUNDED"]).toContain(o.status); // run to the end
  }
  expect(await readTopic(t.client, t.admin, t.names.dlq("orders"))).toHaveLength(0);
}, 240_000);

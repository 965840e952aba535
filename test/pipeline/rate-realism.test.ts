import { afterAll, beforeAll, expect, test } from "bun:test";
import { simulatedDay } from "../../src/domain/order-generator.ts";
import { type OrderRun, type RunCounts, startOrderRun } from "../support/order-run.ts";

// A load run at --rate 3000 through Kafka into PostgreSQL on a shop of 10,000 customers: the
// producer rotates its buyers every simulated day, so the orders spread over the customer base and,
// checked in PostgreSQL from created_at alone, nobody orders more than 3 times in a simulated day.

const RATE = 3000;
const COUNT = 60_000;
const CUSTOMERS = 10_000;
let run: OrderRun;
let counts: RunCounts;

beforeAll(async () => {
  run = await startOrderRun({ label: "rate_realism", rate: RATE, count: COUNT, users: CUSTOMERS, cacheAll: true });
  counts = await run.verify();
}, 300_000);

afterAll(async () => {
  await run?.cleanup();
}, 60_000);

test("every order of the load run is stored exactly once", () => {
  expect(counts.stored).toBe(COUNT);
});

test("no customer places a 4th order within a simulated day of any earlier one", async () => {
  const dayMs = simulatedDay(CUSTOMERS, RATE).ms; // ≈ 35 ms: 104 orders at 3,000/s
  const [tight] = await run.db.sql`
    select count(*)::int as n from (
      select created_at, lead(created_at, 3) over (partition by user_id order by created_at) as fourth from orders) o
    where fourth < created_at + ${`${dayMs} milliseconds`}::interval`;
  expect(tight!.n).toBe(0);
});

test("the orders spread over the customer base instead of the 200 best scores", async () => {
  const [spread] = await run.db.sql`
    select count(*)::int as buyers, max(n)::int as busiest from (select user_id, count(*) as n from orders group by user_id) c`;
  // 60,000 orders are 6 a customer: nearly everyone buys, nobody takes ten times their share
  expect(spread!.buyers).toBeGreaterThan(CUSTOMERS * 0.8);
  expect(spread!.busiest).toBeLessThan(60);
  // the producer counts the orders it could only place above the ceiling; a figure here, not a log dump, on failure
  const overruns = Number(/(\d+) order\(s\) above the daily ceiling/.exec(run.producer.output())?.[1] ?? 0);
  expect(overruns).toBe(0);
});

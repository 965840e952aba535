import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import { HISTORICAL_RUNNING } from "../../src/db/locks.ts";
import { readTopic } from "../../src/kafka/read-topic.ts";
import type { TestDatabase } from "../../support/db.ts";
import { createdIds } from "../../support/events.ts";
import { type TestTopics, waitForZeroLag } from "../support/kafka.ts";
import { openStage, type Stage } from "../support/stage.ts";
import { outputs, until } from "../support/until.ts";

// `bun run historical --reset` while the live pipeline writes to the same database: the run holds
// the live writes off (the consumers pause and retry, and say why), so its reset truncates no live
// order and its counter sync overwrites no live increment. Real processes: a producer at a fixed
// rate, an orders consumer, the historical CLI.

const ROOT = join(import.meta.dir, "../..");
const RATE = 300;
const COUNT = 6000; // a 20-s run
let stage: Stage;
let db: TestDatabase;
let t: TestTopics;

beforeAll(async () => {
  stage = await openStage({ label: "histlive" });
  ({ db, topics: t } = stage);
});

afterAll(() => stage?.close());

test("historical --reset beside a live pipeline: no live order lost, every counter right, the consumers say why they wait", async () => {
  const consumer = stage.start("orders-1", "consumer.ts", ["orders"], { INSTANCE: "1" });
  await until("the consumer consumes", () => consumer.output().includes("consuming"), { timeoutMs: 60_000, services: [consumer] });
  const producer = stage.start("producer", "producer.ts", ["--rate", String(RATE), "--count", String(COUNT)]);
  await until("live orders are stored", async () => ((await db.sql`select count(*)::int as n from orders`)[0]?.n ?? 0) > 300, {
    timeoutMs: 60_000,
    services: [producer, consumer],
  });

  // a month of history, reset first, while the orders keep coming
  const historical = Bun.spawn([process.execPath, "run", join(ROOT, "src/cli/historical.ts"), "--days", "30", "--reset", "--seed", "h"], {
    cwd: ROOT,
    env: { ...process.env, DATABASE_URL: db.url },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [code, out, err] = await Promise.all([
    historical.exited,
    new Response(historical.stdout).text(),
    new Response(historical.stderr).text(),
  ]);
  expect(code, `${out}\n${err}`).toBe(0);

  expect(await Promise.race([producer.proc.exited, Bun.sleep(120_000).then(() => "timeout")])).toBe(0);
  await waitForZeroLag(t.admin, t.names, 90_000, ["orders"]).catch((e: Error) => {
    throw new Error(`${e.message}${outputs([consumer])}`);
  });

  // the consumer waited for the run, and said so (a summary, not a line per batch)
  expect(consumer.output()).toContain(HISTORICAL_RUNNING);
  // every live order Kafka holds is stored once, beside the month of history
  const kafkaIds = [...new Set(createdIds(await readTopic(t.client, t.admin, t.names.topic("orders"))))].sort();
  expect(kafkaIds).toHaveLength(COUNT);
  const liveIds = (await db.sql`select id from orders where source = 'live' order by id`).map((r) => r.id as string);
  expect(liveIds).toEqual(kafkaIds);
  const [historicalOrders] = await db.sql`select count(*)::int as n from orders where source = 'historical'`;
  expect(historicalOrders!.n).toBeGreaterThan(1000);
  // the counters agree with the orders, live and historical alike
  const [wrong] = await db.sql`
    select (select count(*) from products p
              where p.order_count <> (select count(*) from orders o where o.product_id = p.id))::int as products,
           (select count(*) from users u
              where u.last_ordered_at is distinct from (select max(created_at) from orders o where o.user_id = u.id))::int as users`;
  expect(wrong).toEqual({ products: 0, users: 0 });
}, 240_000);

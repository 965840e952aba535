import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import { encode } from "../../src/kafka/envelope.ts";
import { readTopic } from "../../src/kafka/read-topic.ts";
import { freePorts } from "../../support/ports.ts";
import { launchBrowser, openPage } from "../support/browser.ts";
import { openStage, type Stage } from "../support/stage.ts";
import { until } from "../support/until.ts";

// `bun run flink -- orders revenue --bounded`, as the README shows it, on a real topic: orders the
// shop's producer published, and lifecycle steps among them (which the job must leave out). Flink's
// mini-cluster reads the topic to its end and must land exactly the topic's new orders in
// flink_orders, with their contents (the pipeline's own orders table untouched), and the revenue
// per category per minute of exactly those orders.

const ROOT = join(import.meta.dir, "..", "..");
const ORDERS = 3000;

let stage: Stage;

beforeAll(async () => {
  stage = await openStage({ label: "flink", users: 1000, products: 1000 });
}, 120_000);

afterAll(async () => {
  await stage?.close();
}, 60_000);

interface WireOrder {
  id: string;
  quantity: number;
  unit_price: number;
  shipping_cost: number;
  discount_amount: number;
  total_amount: number;
  created_at: string;
  category: string;
  status: string;
}

test("the Flink job lands exactly the topic's new orders, and their revenue per category per minute", async () => {
  const producer = stage.start("producer", "producer.ts", ["--rate", "3000", "--count", String(ORDERS)]);
  await until(
    "the producer to publish its orders",
    () => producer.output().includes(`stopped: ${ORDERS} orders generated, ${ORDERS} acknowledged`),
    {
      timeoutMs: 90_000,
      services: [producer],
    },
  );
  const topic = stage.topics.names.topic("orders");
  const published = await readTopic(stage.topics.client, stage.topics.admin, topic);
  const orders = published
    .map((m) => JSON.parse(m.value))
    .filter((e) => e.event_type === "order_created")
    .map((e) => e.data as WireOrder);
  expect(orders).toHaveLength(ORDERS);
  // lifecycle steps share the topic: the job must leave them out
  const kafka = await stage.topics.producer();
  const steps = orders
    .slice(0, 50)
    .map((o) => ({ order_id: o.id, from: "PAID" as const, to: "SHIPPED" as const, at: new Date(), reason: "test" }));
  await Promise.all(steps.map((s) => kafka.send(topic, { key: s.order_id, value: encode("orders", s) })));

  const proc = Bun.spawn([process.execPath, "run", "flink", "--", "orders", "revenue", "--bounded"], {
    cwd: ROOT,
    env: { ...process.env, ...stage.env },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  expect(code, out + err).toBe(0);
  expect(err).toContain("INFO finished");

  const rows = await stage.db.sql<{ id: string; total_amount: string; created_at: Date; status: string; category: string }[]>`
    select id, total_amount::text, created_at, status, category from flink_orders order by id`;
  const byId = new Map(orders.map((o) => [o.id, o]));
  expect(rows.map((r) => r.id)).toEqual([...byId.keys()].sort());
  for (const r of rows) {
    const o = byId.get(r.id) as WireOrder;
    expect([r.id, Number(r.total_amount), r.created_at.toISOString(), r.status, r.category]).toEqual([
      o.id,
      o.unit_price * o.quantity + o.shipping_cost - o.discount_amount,
      o.created_at,
      o.status,
      o.category,
    ]);
  }

  // beside the pipeline's own table, which it leaves alone
  expect((await stage.db.sql`select count(*)::int as n from orders`)[0]?.n).toBe(0);
  // revenue per category per minute of order time, as the orders themselves add up
  const expected = new Map<string, { orders: number; revenue: number }>();
  for (const o of orders) {
    const minute = new Date(Math.floor(Date.parse(o.created_at) / 60_000) * 60_000).toISOString();
    const key = `${minute} ${o.category}`;
    const cell = expected.get(key) ?? { orders: 0, revenue: 0 };
    cell.orders++;
    cell.revenue += o.total_amount;
    expected.set(key, cell);
  }
  const revenue = await stage.db.sql<{ minute: Date; category: string; orders: string; revenue: string }[]>`
    select minute, category, orders::text, revenue::text from category_revenue_minute`;
  const landed = new Map(
    revenue.map((r) => [`${r.minute.toISOString()} ${r.category}`, { orders: Number(r.orders), revenue: Number(r.revenue) }]),
  );
  expect(landed).toEqual(expected);
}, 300_000);

test("while `bun run flink` runs, /metrics, /healthz and the live page show its state and the revenue job's latest minute; Ctrl-C stops it", async () => {
  const port = freePorts();
  const metrics = stage.start("metrics", "metrics.ts", [], { METRICS_PORT: String(port) });
  const base = `http://127.0.0.1:${port}`;
  // a group of its own: the unbounded job reads the topic from its start again
  const job = Bun.spawn([process.execPath, "run", "flink", "--", "revenue", "--group", `${stage.topics.prefix}live`], {
    cwd: ROOT,
    env: { ...process.env, ...stage.env },
    stdout: "pipe",
    stderr: "pipe",
  });
  const output = Promise.all([new Response(job.stdout).text(), new Response(job.stderr).text()]);
  const metric = async () =>
    fetch(`${base}/metrics`).then(
      (r) => r.text(),
      () => "",
    );
  await until("the Flink job RUNNING in /metrics", async () => (await metric()).includes('shopstream_flink_job_state{state="RUNNING"} 1'), {
    timeoutMs: 90_000,
    pollMs: 1000,
    services: [metrics],
  });
  // /healthz checks the running job beside the servers
  expect(await (await fetch(`${base}/healthz`)).json()).toMatchObject({ flink: true });
  const [latest] = await stage.db.sql<{ minute: Date }[]>`select max(minute) as minute from category_revenue_minute`;
  const browser = await launchBrowser();
  try {
    const { page, errors } = await openPage(browser, `${base}/`);
    await page.waitForFunction(() => document.getElementById("flinkJob")?.textContent === "RUNNING", null, { timeout: 60_000 });
    await page.waitForFunction(() => document.getElementById("health")?.textContent?.includes("flink up"), null, { timeout: 30_000 });
    await page.waitForFunction(() => (document.querySelectorAll("#flinkRevenue .row").length ?? 0) > 0, null, { timeout: 60_000 });
    expect(await page.isVisible("#flinkFigure")).toBe(true);
    // the bars are the table's latest minute, each category's revenue
    const shown = await page.$eval("#flinkRevenue", (el) => Number((el as HTMLElement).dataset.total));
    const [sum] = await stage.db.sql<{ revenue: string }[]>`
      select sum(revenue)::text as revenue from (select revenue from category_revenue_minute where minute = ${latest!.minute} order by revenue desc limit 8) top`;
    expect(shown).toBe(Number(sum!.revenue));
    expect(errors).toEqual([]);
  } finally {
    await browser.close();
  }
  job.kill("SIGINT");
  expect(await job.exited).toBe(0);
  const [out, err] = await output;
  expect(out + err).not.toContain("Exception in thread");
  await until("the stopped job in /metrics", async () => (await metric()).includes('shopstream_flink_job_state{state="STOPPED"} 1'), {
    timeoutMs: 30_000,
    services: [metrics],
  });
}, 300_000);

test("a bad flag is refused in one line naming it, before Flink starts", async () => {
  const proc = Bun.spawn([process.execPath, "run", "flink", "--", "--parallelism", "zero"], {
    cwd: ROOT,
    env: { ...process.env, ...stage.env },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  expect(code).toBe(2);
  expect(out + err).toContain('--parallelism: expected a whole number of at least 1, got "zero"');
}, 120_000);

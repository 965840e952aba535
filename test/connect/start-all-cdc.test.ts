import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import { cdcHandle, dropCdc } from "../../src/connect/cdc.ts";
import { connect, ensureDatabase, type Sql } from "../../src/db/client.ts";
import { freePorts } from "../../support/ports.ts";
import { launchBrowser, openPage } from "../support/browser.ts";
import { changesInKafka, historyInPostgres, statusesOf } from "../support/cdc.ts";
import { PrivateConnect } from "../support/connect-server.ts";
import { PrivatePostgres } from "../support/postgres-server.ts";
import { processesOfPrefix } from "../support/services.ts";
import { openStage, type Stage } from "../support/stage.ts";
import { until } from "../support/until.ts";

// `CDC=1 bun run start:all`, as the README shows it, on a PostgreSQL with logical WAL and a Connect
// worker of the suite's own: the connector is applied before the services start, the cdc-watch
// service reports it in /metrics, /healthz and the live page, and after Ctrl-C every order the
// pipeline stored is in cdc.orders with each of its steps.

const ROOT = join(import.meta.dir, "..", "..");

let pg: PrivatePostgres;
let sql: Sql;
let worker: PrivateConnect;
let stage: Stage;

beforeAll(async () => {
  pg = new PrivatePostgres({ wal_level: "logical" });
  await pg.init();
  await ensureDatabase(pg.url);
  sql = connect(pg.url, { max: 2 });
  stage = await openStage({ label: "startcdc", empty: true });
  worker = new PrivateConnect(`${stage.topics.prefix}connect`);
  await worker.start();
}, 300_000);

afterAll(async () => {
  const settings = { databaseUrl: pg.url, topicPrefix: stage.topics.prefix, connectUrl: worker.url, kafkaPartitions: 3 };
  await dropCdc(cdcHandle(sql, settings)).catch((err) => console.warn(`[start-all-cdc] drop: ${err}`));
  await worker?.destroy();
  await stage?.close();
  await sql?.end({ timeout: 5 });
  pg?.destroy();
}, 120_000);

test("CDC=1 start:all applies the connector, reports it in /metrics, /healthz and the live page, and cdc.orders holds every stored order", async () => {
  const port = freePorts();
  const env = {
    ...(process.env as Record<string, string>),
    ...stage.env,
    DATABASE_URL: pg.url,
    CONNECT_URL: worker.url,
    CDC: "1",
    METRICS_PORT: String(port),
    SEED_USERS: "500",
    SEED_PRODUCTS: "500",
  };
  const proc = Bun.spawn([process.execPath, "run", "start:all", "--rate", "100", "--speed", "60"], {
    cwd: ROOT,
    env,
    stdout: "pipe",
    stderr: "pipe",
  });
  let output = "";
  const collect = async (stream: ReadableStream<Uint8Array>) => {
    for await (const chunk of stream) output += new TextDecoder().decode(chunk);
  };
  const reading = Promise.all([collect(proc.stdout), collect(proc.stderr)]);
  try {
    const stored = async () =>
      ((await sql<{ n: number }[]>`select count(*)::int as n from orders`.catch(() => [{ n: 0 }]))[0]?.n ?? 0) as number;
    await until("orders stored", async () => (await stored()) > 300, { timeoutMs: 120_000 });
    expect(output).toContain(`[start:all] CDC: connector ${stage.topics.prefix}shopstream-cdc running`);

    const base = `http://127.0.0.1:${port}`;
    let metrics = "";
    await until(
      "the CDC connector in /metrics",
      async () => {
        metrics = await fetch(`${base}/metrics`).then(
          (r) => r.text(),
          () => "",
        );
        return metrics.includes('shopstream_cdc_connector_state{state="RUNNING"} 1');
      },
      { timeoutMs: 60_000, pollMs: 1000 },
    );
    expect(metrics).toMatch(/shopstream_cdc_tasks\{state="RUNNING"\} 1/);
    expect(metrics).toMatch(/shopstream_cdc_slot_retained_bytes \d+/);
    const health = (await (await fetch(`${base}/healthz`)).json()) as Record<string, unknown>;
    expect(health.cdc).toBe(true);
    await until(
      "the CDC tile's figures on the live page's JSON",
      async () =>
        (
          (await fetch(`${base}/api/live`).then(
            (r) => r.json(),
            () => ({}),
          )) as { cdc?: { connector?: string } }
        ).cdc?.connector === "RUNNING",
      { timeoutMs: 30_000, pollMs: 1000 },
    );
    // the live page in a real browser: the CDC tile and the health badge
    const browser = await launchBrowser();
    try {
      const { page, errors } = await openPage(browser, `${base}/`);
      await page.waitForFunction(() => document.getElementById("cdcState")?.textContent === "RUNNING", null, { timeout: 30_000 });
      expect(await page.isVisible("#cdcTile")).toBe(true);
      expect(await page.textContent("#cdcDetail")).toMatch(/^tasks 1 RUNNING · slot [0-9.,]+ MiB WAL · restarts 0$/);
      expect(await page.$$eval("#health span", (s) => s.map((x) => x.textContent))).toContain("cdc up");
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
    }
  } finally {
    proc.kill("SIGINT");
    await proc.exited;
    await reading;
  }
  expect(output).toContain("[start:all] all services stopped");
  expect(proc.exitCode, output.slice(-3000)).toBe(0);
  expect(processesOfPrefix(stage.topics.prefix)).toEqual([]);

  const history = await historyInPostgres(sql);
  let kafka = await changesInKafka(stage.topics, `${stage.topics.prefix}cdc.orders`);
  await until(
    "every stored order's changes in cdc.orders",
    async () => {
      kafka = await changesInKafka(stage.topics, `${stage.topics.prefix}cdc.orders`);
      return [...history].every(([id, statuses]) => statusesOf(kafka.byOrder.get(id) ?? []).statuses.length === statuses.length);
    },
    { timeoutMs: 60_000, pollMs: 2000 },
  );
  for (const [id, statuses] of history) expect([id, statusesOf(kafka.byOrder.get(id) ?? []).statuses]).toEqual([id, statuses]);
  const steps = [...history.values()].reduce((n, h) => n + h.length - 1, 0);
  console.log(`[start-all-cdc] ${history.size} orders and ${steps} lifecycle steps stored, each in cdc.orders`);
}, 400_000);

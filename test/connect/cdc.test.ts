import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { createTestDatabase } from "../../support/db.ts";
import { cdcHandle, cdcState, dropCdc, type CdcHandle, type CdcSettings } from "../../src/connect/cdc.ts";
import { connect, ensureDatabase, type Sql } from "../../src/db/client.ts";
import { migrate } from "../../src/db/migrate.ts";
import { slotState } from "../../src/db/replication.ts";
import { insertOrders, insertProducts, insertUsers } from "../../src/db/writers.ts";
import type { OrderStatus, StatusChange } from "../../src/domain/types.ts";
import { applyTransitions } from "../../src/lifecycle/store.ts";
import { readTopic } from "../../src/kafka/read-topic.ts";
import { PrivateConnect } from "../support/connect-server.ts";
import { order, product, user } from "../support/fixtures.ts";
import { createTestTopics, type TestTopics } from "../support/kafka.ts";
import { PrivatePostgres } from "../support/postgres-server.ts";
import { until } from "../support/until.ts";
import { changesInKafka, expectedEvents, historyInPostgres, statusesOf } from "../support/cdc.ts";

// CDC on real processes: a private PostgreSQL with wal_level=logical, a Kafka Connect worker of the
// suite's own running Debezium, the shared Kafka cluster under the suite's topic prefix. The shop's
// own writers make the changes (orders inserted as the consumers insert them, lifecycle steps
// applied as they apply them); cdc.orders must then hold, per order, its insert and every update
// in order, as PostgreSQL's order_events tells them.

let pg: PrivatePostgres;
let sql: Sql;
let t: TestTopics;
let worker: PrivateConnect;
let cdc: CdcHandle;
let settings: CdcSettings;
const ROOT = join(import.meta.dir, "..", "..");

const USERS = 20;
const PRODUCTS = 10;
const NEXT: Partial<Record<OrderStatus, OrderStatus[]>> = {
  PAID: ["SHIPPED", "CANCELLED"],
  SHIPPED: ["DELIVERED"],
  DELIVERED: ["REFUNDED"],
};

beforeAll(async () => {
  pg = new PrivatePostgres({ wal_level: "logical" });
  await pg.init();
  await ensureDatabase(pg.url);
  sql = connect(pg.url, { max: 4 });
  await migrate(sql);
  t = await createTestTopics("cdc");
  worker = new PrivateConnect(`${t.prefix}connect`);
  await worker.start();
  settings = { databaseUrl: pg.url, topicPrefix: t.prefix, connectUrl: worker.url, kafkaPartitions: 3 };
  cdc = cdcHandle(sql, settings);
  await insertUsers(
    sql,
    Array.from({ length: USERS }, (_, i) => user(`U_c${i}`)),
  );
  await insertProducts(
    sql,
    Array.from({ length: PRODUCTS }, (_, i) => product(`P_c${i}`)),
  );
}, 300_000);

afterAll(async () => {
  await dropCdc(cdc).catch((err) => console.warn(`[cdc] drop: ${err}`));
  await worker?.destroy();
  await t?.cleanup();
  await sql?.end({ timeout: 5 });
  pg?.destroy();
}, 120_000);

/** `bun run connect <command>` as the README shows it, on the suite's database, worker and topics. */
async function connectCli(command: string, env: Record<string, string> = {}): Promise<{ code: number; output: string }> {
  const proc = Bun.spawn([process.execPath, "run", "connect", command], {
    cwd: ROOT,
    env: { ...process.env, DATABASE_URL: pg.url, TOPIC_PREFIX: t.prefix, CONNECT_URL: worker.url, KAFKA_PARTITIONS: "3", ...env },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, output: out + err };
}

/** Makes `n` orders from `first` on, then walks some of every order made so far one lifecycle step on. */
class Shop {
  made = 0;
  private at = Date.parse("2026-06-01T00:00:00Z");

  async orders(n: number): Promise<void> {
    const batch = Array.from({ length: n }, (_, i) => {
      const k = this.made + i;
      return order(`O_c${String(k).padStart(6, "0")}`, `U_c${k % USERS}`, `P_c${k % PRODUCTS}`, { created_at: new Date(this.tick()) });
    });
    await insertOrders(sql, batch);
    this.made += n;
  }

  /** One step for every third order that has one left, each its own change in its own transaction batch. */
  async steps(round: number): Promise<void> {
    const rows = await sql<{ id: string; status: OrderStatus }[]>`select id, status from orders order by id`;
    const changes: StatusChange[] = rows
      .filter((r, i) => (i + round) % 3 === 0 && NEXT[r.status])
      .map((r, i) => {
        const options = NEXT[r.status] as OrderStatus[];
        return {
          order_id: r.id,
          from: r.status,
          to: options[i % options.length] as OrderStatus,
          at: new Date(this.tick()),
          reason: "test",
        };
      });
    if (changes.length === 0) return;
    await applyTransitions(sql, changes, { partition: 0, offsets: changes.map((_, i) => String(round * 10_000 + i)) }, () => null);
  }

  private tick(): number {
    this.at += 1000;
    return this.at;
  }
}

describe("Debezium CDC out of the shop's PostgreSQL", () => {
  const shop = new Shop();

  test("every order inserted and every lifecycle step appears in cdc.orders, in order per order, with its before", async () => {
    await shop.orders(100); // before the connector: its snapshot reads these
    const applied = await connectCli("apply");
    expect(applied.code, applied.output).toBe(0);
    expect(applied.output).toContain(`connector ${cdc.names.connector} running`);
    for (let round = 0; round < 6; round++) {
      await shop.orders(50);
      await shop.steps(round);
    }
    const history = await historyInPostgres(sql);
    let kafka = await changesInKafka(t, cdc.names.topic("orders"));
    await until(
      "every change in cdc.orders",
      async () => {
        kafka = await changesInKafka(t, cdc.names.topic("orders"));
        return kafka.records >= expectedEvents(history);
      },
      { timeoutMs: 90_000, pollMs: 2000 },
    );

    expect(kafka.records).toBe(expectedEvents(history)); // a clean run: no change twice
    expect([...kafka.byOrder.keys()].sort()).toEqual([...history.keys()].sort());
    for (const [id, statuses] of history) {
      const changes = kafka.byOrder.get(id) ?? [];
      expect([id, changes.map((c) => c.after)]).toEqual([id, statuses]);
      // the first is the row as read by the snapshot ("r") or inserted ("c"); each update says where it came from
      expect(["r", "c"]).toContain(changes[0]!.op);
      expect(changes.slice(1).map((c) => [c.op, c.before])).toEqual(statuses.slice(0, -1).map((s) => ["u", s]));
    }
    const snapshot = [...kafka.byOrder.values()].filter((c) => c[0]!.op === "r").length;
    expect(snapshot).toBe(100);

    // order_events: one insert per row, users and products as their tables hold them
    const [events] = await sql<{ n: number }[]>`select count(*)::int as n from order_events`;
    const rows = await readTopic(t.client, t.admin, cdc.names.topic("order_events"));
    expect(rows.length).toBe(events!.n);
    const users = await readTopic(t.client, t.admin, cdc.names.topic("users"));
    expect(new Set(users.map((r) => JSON.parse(r.value).after.id)).size).toBe(USERS);

    const state = await cdcState(cdc);
    expect(state.connector).toBe("RUNNING");
    expect(state.slot?.active).toBe(true);
  }, 240_000);

  test("a Connect worker SIGKILLed under load resumes from its stored offsets: nothing missing, its replays counted", async () => {
    let loading = true;
    let round = 100;
    const load = (async () => {
      while (loading) {
        await shop.orders(20);
        await shop.steps(round++);
        await Bun.sleep(100);
      }
    })();
    await Bun.sleep(5000);
    await worker.kill();
    const killedAt = shop.made;
    await Bun.sleep(3000);
    await worker.start(); // the same group, the same topics: its offsets are where the killed one stored them
    await until("the connector running again", async () => (await cdcState(cdc)).connector === "RUNNING", { timeoutMs: 120_000 });
    await Bun.sleep(5000);
    loading = false;
    await load;

    const history = await historyInPostgres(sql);
    let kafka = await changesInKafka(t, cdc.names.topic("orders"));
    const complete = () =>
      [...history].every(([id, statuses]) => statusesOf(kafka.byOrder.get(id) ?? []).statuses.length === statuses.length);
    await until(
      "every change in cdc.orders after the kill",
      async () => {
        kafka = await changesInKafka(t, cdc.names.topic("orders"));
        return complete();
      },
      { timeoutMs: 120_000, pollMs: 2000 },
    );

    let replayed = 0;
    for (const [id, statuses] of history) {
      const seen = statusesOf(kafka.byOrder.get(id) ?? []);
      expect([id, seen.statuses]).toEqual([id, statuses]);
      replayed += seen.replayed;
    }
    const expected = expectedEvents(history);
    expect(kafka.records).toBe(expected + replayed);
    console.log(
      `[cdc] worker SIGKILLed after ${killedAt} orders, ${history.size} in all: ${expected} changes in PostgreSQL, ${kafka.records} records in ${cdc.names.topic("orders")} (${replayed} replayed by Debezium after the restart)`,
    );
    expect((await slotState(sql, cdc.names.slot))?.active).toBe(true);
  }, 300_000);

  test("apply starts a stopped connector again; `bun run connect status` tells the state; drop removes the connector, its offsets, its replication slot and publication", async () => {
    // a connector left stopped (a drop cut short) is started again by apply
    await fetch(`${worker.url}/connectors/${encodeURIComponent(cdc.names.connector)}/stop`, { method: "PUT" });
    await until("the connector stopped", async () => (await cdcState(cdc)).connector === "STOPPED");
    const reapplied = await connectCli("apply");
    expect(reapplied.code, reapplied.output).toBe(0);
    const running = await connectCli("status");
    expect(running.code, running.output).toBe(0);
    expect(running.output).toMatch(new RegExp(`connector +${cdc.names.connector.replace(/\./g, "\\.")} +RUNNING`));
    expect(running.output).toMatch(/task 0 +RUNNING/);
    expect(running.output).toMatch(new RegExp(`slot +${cdc.names.slot} +active, holding [0-9.]+ MiB of WAL`));
    const dropped = await connectCli("drop");
    expect(dropped.code, dropped.output).toBe(0);
    expect(dropped.output).toContain(`connector ${cdc.names.connector}: removed; slot ${cdc.names.slot}: dropped`);
    expect((await cdcState(cdc)).connector).toBe("MISSING");
    expect(await slotState(sql, cdc.names.slot)).toBeNull();
    expect(await sql`select 1 from pg_publication where pubname = ${cdc.names.publication}`).toHaveLength(0);
    expect(await dropCdc(cdc)).toEqual({ connector: false, slot: false });
    const gone = await connectCli("status");
    expect(gone.code).toBe(1);
    expect(gone.output).toMatch(/MISSING[\s\S]*slot +\S+ +none/);
  }, 120_000);

  test("a PostgreSQL without logical WAL is refused in one line saying what to set, by `connect apply` and by `CDC=1 start:all`", async () => {
    const shared = await createTestDatabase("cdcwal");
    try {
      const refused = await connectCli("apply", { DATABASE_URL: shared.url });
      expect(refused.code).toBe(1);
      expect(refused.output).toContain("CDC needs wal_level=logical");
      expect(refused.output).toContain("ALTER SYSTEM SET wal_level = logical");
      expect(
        refused.output
          .trim()
          .split("\n")
          .filter((l) => l.includes("wal_level")),
      ).toHaveLength(1);
      // start:all says the same before it starts anything (a worker that does not answer is not started)
      const started = Date.now();
      const proc = Bun.spawn([process.execPath, "run", "start:all"], {
        cwd: ROOT,
        env: { ...process.env, DATABASE_URL: shared.url, TOPIC_PREFIX: `${t.prefix}wal.`, CDC: "1", CONNECT_URL: "http://127.0.0.1:9" },
        stdout: "pipe",
        stderr: "pipe",
      });
      const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
      expect(code).toBe(1);
      expect(out + err).toContain("CDC needs wal_level=logical");
      expect(out + err).not.toContain("starting it with deploy/local/infra.sh up");
      expect(Date.now() - started).toBeLessThan(30_000);
    } finally {
      await shared.drop();
    }
  }, 60_000);

  test("`infra.sh down` removes the CDC connector, its replication slot and publication before it stops the worker it started", async () => {
    const applied = await connectCli("apply");
    expect(applied.code, applied.output).toBe(0);
    await until("the slot made", async () => (await slotState(sql, cdc.names.slot)) !== null, { timeoutMs: 60_000 });
    await worker.down({ DATABASE_URL: pg.url, TOPIC_PREFIX: t.prefix, KAFKA_PARTITIONS: "3" });
    expect(await slotState(sql, cdc.names.slot)).toBeNull();
    expect(await sql`select 1 from pg_publication where pubname = ${cdc.names.publication}`).toHaveLength(0);
    expect(await worker.answers()).toBe(false);
  }, 180_000);
});

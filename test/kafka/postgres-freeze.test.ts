import { afterAll, beforeAll, expect, test } from "bun:test";
import { connect } from "../../src/db/client.ts";
import type { BatchingProducer } from "../../src/kafka/batching-producer.ts";
import { readTopic } from "../../src/kafka/read-topic.ts";
import { createdIds } from "../../support/events.ts";
import { config, publishOrders, waitForZeroLag, type TestTopics } from "../support/kafka.ts";
import type { PrivatePostgres } from "../support/postgres-server.ts";
import { openPrivatePostgresStage, type PrivatePostgresStage } from "../support/private-postgres-stage.ts";
import type { RunningService } from "../support/services.ts";
import { until } from "../support/until.ts";

// PostgreSQL hangs instead of crashing: every process of a private server is SIGSTOPped for 90 s
// under running order consumers (its sockets stay open, nothing answers, no TCP error ever comes).
// The consumers keep their group membership, one of them stops within bounds in the middle of it,
// and once the server is thawed every order is stored exactly once, nothing dead-lettered.

const FREEZE_MS = 90_000;
/** How long a consumer stopped during the freeze may take to exit. */
const STOP_BOUND_MS = 45_000;

/** Buyers enough that every partition carries orders: each consumer has a write in flight when the server hangs. */
const USERS = Array.from({ length: 9 }, (_, i) => `U_f${i + 1}`);

let stage: PrivatePostgresStage;
let pg: PrivatePostgres;
let t: TestTopics;
let producer: BatchingProducer;
const consumers: RunningService[] = [];

beforeAll(async () => {
  stage = await openPrivatePostgresStage("pgfreeze", { users: USERS, products: ["P_f1"] });
  ({ pg, topics: t, producer } = stage);
});
afterAll(() => stage?.close());

const publish = (from: number, to: number) =>
  publishOrders(t, producer, { prefix: "O_f", from, to }, (n) => USERS[n % USERS.length] as string, "P_f1");

test("consumers ride out a frozen PostgreSQL: membership kept, a bounded stop, every order stored once after the thaw", async () => {
  for (const i of [1, 2]) consumers.push(stage.start(`orders-${i}`, "consumer.ts", ["orders"], { INSTANCE: String(i) }));
  const [leaving, staying] = consumers as [RunningService, RunningService];
  await publish(0, 200);
  await waitForZeroLag(t.admin, t.names, 60_000, ["orders"]);
  expect((await t.admin.offsets(t.names.topic("orders"))).filter((p) => p.high === 0)).toEqual([]);
  await until("both consumers sharing the partitions", async () => {
    const g = await t.admin.describeGroup(t.names.group("orders"));
    return g.members === 2 && g.state.toLowerCase() === "stable";
  });

  const frozenAt = Date.now();
  pg.freeze();
  await publish(200, 400); // arrive while the database hangs: both consumers' writes wait on it
  await Bun.sleep(15_000);

  // stopped in the middle of a write that cannot finish: it gives the batch up, uncommitted
  const stopping = Date.now();
  const code = await leaving.stop(STOP_BOUND_MS);
  const stopMs = Date.now() - stopping;
  expect(code).toBe(0);
  expect(stopMs).toBeLessThan(STOP_BOUND_MS);
  expect(leaving.output()).toMatch(/stopped after \d+ records stored/); // its own clean end, not a kill
  await publish(400, 500);

  await Bun.sleep(Math.max(0, frozenAt + FREEZE_MS - 10_000 - Date.now()));
  // the remaining member still holds the group: it heartbeats while its writes wait
  const group = await t.admin.describeGroup(t.names.group("orders"));
  expect({ state: group.state.toLowerCase(), members: group.members }).toEqual({ state: "stable", members: 1 });
  expect(staying.proc.exitCode).toBeNull();
  await Bun.sleep(Math.max(0, frozenAt + FREEZE_MS - Date.now()));

  pg.thaw();
  const thawedAt = Date.now();
  await waitForZeroLag(t.admin, t.names, 60_000, ["orders"]);
  const recoverMs = Date.now() - thawedAt;
  console.log(
    `[${config.kafkaClient}] PostgreSQL frozen ${((thawedAt - frozenAt) / 1000).toFixed(0)} s; stop during the freeze ${(stopMs / 1000).toFixed(1)} s; lag 0 ${(recoverMs / 1000).toFixed(1)} s after the thaw`,
  );

  const sql = connect(pg.url, { max: 1 });
  const stored = (await sql`select id from orders`).map((r) => r.id as string).sort();
  const [p] = await sql`select order_count from products where id = 'P_f1'`;
  await sql.end();
  const inKafka = [...new Set(createdIds(await readTopic(t.client, t.admin, t.names.topic("orders"))))].sort();
  expect(inKafka).toHaveLength(500);
  expect(stored).toEqual(inKafka);
  expect(p!.order_count).toBe(500);
  expect(await readTopic(t.client, t.admin, t.names.dlq("orders"))).toHaveLength(0);

  // the failures are summarised (StormLog): a few lines for the whole freeze, none naming an order
  const log = staying.output();
  expect(log).toContain("write to PostgreSQL failed");
  expect(log).not.toMatch(/O_f\d/);
  expect(log.split("\n").length).toBeLessThan(80);
  expect(leaving.output()).not.toMatch(/O_f\d/);
  expect(await staying.stop()).toBe(0);
}, 240_000);

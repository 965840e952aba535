import { afterAll, beforeAll, expect, test } from "bun:test";
import { connect } from "../../src/db/client.ts";
import type { BatchingProducer } from "../../src/kafka/batching-producer.ts";
import { publishOrders, waitForZeroLag, type TestTopics } from "../support/kafka.ts";
import { readTopic } from "../../src/kafka/read-topic.ts";
import type { PrivatePostgres } from "../support/postgres-server.ts";
import { openPrivatePostgresStage, type PrivatePostgresStage } from "../support/private-postgres-stage.ts";
import type { RunningService } from "../support/services.ts";
import { until } from "../support/until.ts";

// PostgreSQL crashes under running order consumers and comes back: nothing is committed past the
// outage, nothing is dead-lettered, and every order ends up stored exactly once.

let stage: PrivatePostgresStage;
let pg: PrivatePostgres;
let t: TestTopics;
let producer: BatchingProducer;
const consumers: RunningService[] = [];

beforeAll(async () => {
  stage = await openPrivatePostgresStage("pgoutage", { users: ["U_p1", "U_p2", "U_p3"], products: ["P_p1"] });
  ({ pg, topics: t, producer } = stage);
});
afterAll(() => stage?.close());

const publish = (from: number, to: number) => publishOrders(t, producer, { prefix: "O_p", from, to }, (n) => `U_p${1 + (n % 3)}`, "P_p1");

test("consumers ride out a PostgreSQL crash without losing or duplicating an order", async () => {
  for (const i of [1, 2]) consumers.push(stage.start(`orders-${i}`, "consumer.ts", ["orders"], { INSTANCE: String(i) }));
  await publish(0, 200);
  await waitForZeroLag(t.admin, t.names, 60_000, ["orders"]);

  pg.stop();
  await publish(200, 400); // arrive while the database is down
  // the batches of the new orders meet the outage and say so (however long the fetch takes on a busy machine)
  await until("a consumer reports the failed write", () => consumers.some((c) => c.output().includes("write to PostgreSQL failed")), {
    timeoutMs: 30_000,
    services: consumers,
  });
  await pg.start();
  await waitForZeroLag(t.admin, t.names, 60_000, ["orders"]);

  const sql = connect(pg.url, { max: 1 });
  const [row] = await sql`select count(*)::int as n, count(distinct id)::int as d from orders`;
  const [p] = await sql`select order_count from products where id = 'P_p1'`;
  await sql.end();
  expect(row).toEqual({ n: 400, d: 400 });
  expect(p!.order_count).toBe(400);
  expect(await readTopic(t.client, t.admin, t.names.dlq("orders"))).toHaveLength(0);
  for (const c of consumers.splice(0)) expect(await c.stop(), `${c.name}:\n${c.output().slice(-3000)}`).toBe(0);
}, 120_000);

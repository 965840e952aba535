import { afterAll, expect, test } from "bun:test";
import { encode } from "../../src/kafka/envelope.ts";
import { partitionFor } from "../../src/kafka/partitioner.ts";
import { readTopic } from "../../src/kafka/read-topic.ts";
import type { DeadLetter } from "../../src/kafka/dead-letter.ts";
import { order } from "../support/fixtures.ts";
import { type OrderRun, startOrderRun } from "../support/order-run.ts";
import { until } from "../support/until.ts";

// A drip of orders whose user never exists, on every partition, beside live traffic at 3,000
// orders/s: each waits in the parking lot, not in its batch, so the orders around it are stored
// at the rate they are produced, and each is dead-lettered once its wait (REFERENCE_WAIT_S) is over.

const RATE = 3000;
const WAIT_S = 5;
const PARTITIONS = 3;
let run: OrderRun | undefined;

afterAll(async () => {
  await run?.cleanup();
});

test("orders that wait for a user who never comes hold none of their neighbours", async () => {
  run = await startOrderRun({ label: "drip", rate: RATE, count: RATE * 25, env: { REFERENCE_WAIT_S: String(WAIT_S) } });
  const { topics } = run;
  const topic = topics.names.topic("orders");
  await until("live orders stored", async () => (await run!.stored()) > RATE, { timeoutMs: 60_000 });

  // a missing user per partition: orders are keyed by their user, as the producer keys them
  const users: string[] = [];
  for (let n = 0; users.length < PARTITIONS; n++) {
    const id = `U_never_${n}`;
    if (partitionFor(id, PARTITIONS, () => 0) === users.length) users.push(id);
  }
  const dripper = await topics.producer();
  const drips = new Set<string>();
  const inKafka = async () => (await topics.admin.offsets(topic)).reduce((n, p) => n + p.high, 0);
  const start = { produced: await inKafka(), stored: await run.stored() };
  let parkedSeen = 0;
  for (let round = 0; round < 12; round++) {
    await Promise.all(
      users.map((u, p) => {
        const o = order(`O_drip_${round}_${p}`, u, "P_never");
        drips.add(o.id);
        return dripper.send(topic, { key: o.user_id, value: encode("orders", o) });
      }),
    );
    await Bun.sleep(1000);
    const [row] = await run.db.sql`select count(*)::int as n from parked_records`;
    parkedSeen = Math.max(parkedSeen, row!.n as number);
  }
  const end = { produced: await inKafka(), stored: await run.stored() };
  const produced = end.produced - start.produced - drips.size;
  const stored = end.stored - start.stored;
  console.log(`drip: ${stored} of ${produced} orders produced in 12 s stored meanwhile (${((100 * stored) / produced).toFixed(1)} %)`);
  expect(produced).toBeGreaterThan(RATE * 6); // the load ran at (about) its rate
  expect(stored).toBeGreaterThanOrEqual(0.9 * produced);
  expect(parkedSeen).toBeGreaterThan(0); // they waited in the lot

  const counts = await run.verify({ deadLettered: drips });
  expect(counts.stored).toBe(counts.generated);
  const dead = (await readTopic(topics.client, topics.admin, topics.names.dlq("orders"))).map((m) => JSON.parse(m.value) as DeadLetter);
  for (const d of dead) expect(d.reason).toBe(`references a user or product that did not arrive within ${WAIT_S * 1000} ms`);
  // summarised: a line per reason now and then, never one per dead letter
  const warned = run.consumers.map((c) => c.output()).join("\n");
  expect(warned.match(/did not arrive/g)?.length ?? 0).toBeLessThan(drips.size);
});

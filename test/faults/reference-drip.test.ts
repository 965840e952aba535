import { afterAll, expect, test } from "bun:test";
import { encode } from "../../src/kafka/envelope.ts";
import { partitionFor } from "../../src/kafka/partitioner.ts";
import { readTopic } from "../../src/kafka/read-topic.ts";
import type { DeadLetter } from "../../src/kafka/dead-letter.ts";
import { order } from "../support/fixtures.ts";
import { type OrderRun, startOrderRun } from "../support/order-run.ts";
import { until } from "../support/until.ts";

// A drip of orders whose user never exists, on every partition, beside live traffic at 3,000
// orders/s: each waits in the parking lot, not in its batch, so the orders behind it are stored and
// committed while it still waits (a drip held in its batch would hold its partition REFERENCE_WAIT_S
// per drip), and each is dead-lettered once its wait is over. No speed is asserted: only that the
// partitions moved past every drip before the first drip's wait ran out.

const RATE = 3000;
const WAIT_S = 45;
const PARTITIONS = 3;
const ROUNDS = 12;
let run: OrderRun | undefined;

afterAll(async () => {
  await run?.cleanup();
});

test("orders that wait for a user who never comes hold none of their neighbours", async () => {
  run = await startOrderRun({ label: "drip", rate: RATE, count: RATE * 25, env: { REFERENCE_WAIT_S: String(WAIT_S) } });
  const { topics } = run;
  const topic = topics.names.topic("orders");
  const services = [run.producer, ...run.consumers];
  await until("live orders stored", async () => (await run!.stored()) > RATE, { timeoutMs: 60_000, services });

  // a missing user per partition: orders are keyed by their user, as the producer keys them
  const users: string[] = [];
  for (let n = 0; users.length < PARTITIONS; n++) {
    const id = `U_never_${n}`;
    if (partitionFor(id, PARTITIONS, () => 0) === users.length) users.push(id);
  }
  const dripper = await topics.producer();
  const drips = new Set<string>();
  const highs = async () => new Map((await topics.admin.offsets(topic)).map((p) => [p.partition, p.high]));
  const firstDripAt = Date.now();
  let afterLastDrip = new Map<number, number>();
  for (let round = 0; round < ROUNDS; round++) {
    await Promise.all(
      users.map((u, p) => {
        const o = order(`O_drip_${round}_${p}`, u, "P_never");
        drips.add(o.id);
        return dripper.send(topic, { key: o.user_id, value: encode("orders", o) });
      }),
    );
    afterLastDrip = await highs();
    await Bun.sleep(1000);
  }
  // live orders behind the last drip on every partition: its neighbours
  let behind = new Map<number, number>();
  await until(
    "live orders behind the last drip on every partition",
    async () => {
      behind = await highs();
      return [...afterLastDrip].every(([p, high]) => (behind.get(p) ?? 0) > high);
    },
    { services },
  );
  // every partition's consumer has stored and committed them while the drips still wait
  await until(
    "the orders behind the drips committed",
    async () => {
      const committed = await topics.admin.committed(topics.names.group("orders"), topic);
      return [...behind].every(([p, high]) => (committed.get(p) ?? 0) >= high);
    },
    { timeoutMs: WAIT_S * 1000, services },
  );
  const [row] = await run.db.sql`select count(*)::int as n from parked_records`;
  const dead = await readTopic(topics.client, topics.admin, topics.names.dlq("orders"));
  const tookS = (Date.now() - firstDripAt) / 1000;
  console.log(`drip: ${drips.size} drips over ${ROUNDS} s, the orders behind them committed ${tookS.toFixed(1)} s after the first`);
  expect(tookS).toBeLessThan(WAIT_S); // before any drip's wait was over: none held its partition
  expect(dead).toHaveLength(0);
  expect(row!.n).toBe(drips.size); // every drip waits in the lot, and nothing else does

  const counts = await run.verify({ deadLettered: drips });
  expect(counts.stored).toBe(counts.generated);
  const letters = (await readTopic(topics.client, topics.admin, topics.names.dlq("orders"))).map((m) => JSON.parse(m.value) as DeadLetter);
  for (const d of letters) expect(d.reason).toBe(`references a user or product that did not arrive within ${WAIT_S * 1000} ms`);
  // summarised: a line per reason now and then, never one per dead letter
  const warned = run.consumers.map((c) => c.output()).join("\n");
  expect(warned.match(/did not arrive/g)?.length ?? 0).toBeLessThan(drips.size);
}, 240_000);

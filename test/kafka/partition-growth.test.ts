import { afterAll, expect, test } from "bun:test";
import { config } from "../support/kafka.ts";
import { consumerLag } from "../../src/kafka/lag.ts";
import { type OrderRun, startOrderRun } from "../support/order-run.ts";
import { until } from "../support/until.ts";

// The orders topic grown from 3 to 6 partitions while a producer publishes and three order consumers
// write (real service processes): the producer spreads keys over the new partitions and the
// consumers' group reads them, each within a bound, generation never stops, and every order Kafka
// acknowledged is stored exactly once.

let run: OrderRun | null = null;
afterAll(async () => {
  await run?.cleanup();
}, 60_000);

test("the orders topic grown from 3 to 6 partitions under load: the new ones are written and read, every order stored once", async () => {
  run = await startOrderRun({ label: "grow", rate: 300 });
  const r = run;
  const { admin, names } = r.topics;
  const orders = names.topic("orders");
  const services = () => [r.producer, ...r.consumers];
  await until("orders stored before the change", async () => (await r.stored()) > 300, { timeoutMs: 60_000, services: services() });

  // what Kafka acknowledged, sampled every second until the producer stops
  const samples: number[] = [];
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      samples.push((await admin.offsets(orders)).reduce((sum, p) => sum + p.high, 0));
      await Bun.sleep(1000);
    }
  })();

  const grownAt = Date.now();
  await admin.createPartitions(orders, 6);
  await until(
    "records on partitions 3-5",
    async () => (await admin.offsets(orders)).filter((p) => p.partition >= 3 && p.high > 0).length === 3,
    { timeoutMs: 45_000, pollMs: 250, services: services() },
  );
  const writtenAfter = Date.now() - grownAt;
  await until(
    "the group reading partitions 3-5",
    async () => {
      const committed = await admin.committed(names.group("orders"), orders);
      return [3, 4, 5].every((p) => (committed.get(p) ?? 0) > 0);
    },
    { timeoutMs: 60_000, pollMs: 250, services: services() },
  );
  const readAfter = Date.now() - grownAt;
  await Bun.sleep(5000); // more orders over six partitions
  sampling = false;
  await sampler;
  r.stopProducer();
  const counts = await r.verify(); // acknowledged = generated, Kafka's ids = PostgreSQL's, once each, lag 0

  const lag = (await consumerLag(admin, names)).filter((l) => l.topic === orders);
  expect(lag.map((l) => [l.partition, l.lag]).sort((a, b) => (a[0] as number) - (b[0] as number))).toEqual(
    [0, 1, 2, 3, 4, 5].map((p) => [p, 0]),
  );
  // generation never stopped: Kafka took more orders in every 3 s, through the change
  for (let i = 3; i < samples.length; i++) expect(samples[i] as number).toBeGreaterThan(samples[i - 3] as number);
  // and so did the producer's acknowledgements, line after line
  const acked = [...r.producer.output().matchAll(/orders generated, (\d+) acknowledged/g)].map((m) => Number(m[1]));
  for (let i = 1; i < acked.length; i++) expect(acked[i] as number).toBeGreaterThan(acked[i - 1] as number);
  console.log(
    `[faults] ${config.kafkaClient}: orders 3 -> 6 partitions at 300/s: records on the new ones after ${writtenAfter} ms, read after ${readAfter} ms; ${JSON.stringify(counts)}`,
  );
  await r.cleanup();
  run = null;
}, 300_000);

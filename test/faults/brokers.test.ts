import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { PrivateKafka } from "../../support/kafka-cluster.ts";
import { startOrderRun, type OrderRun } from "../support/order-run.ts";

// Broker faults under a live order run, on a private 3-broker cluster this suite starts and kills
// (RF 3, min ISR 2, acks=all): one broker SIGKILLed and restarted, a rolling SIGTERM restart of all
// three, and the whole cluster down for 30 s. Each time every generated order must be acknowledged,
// be in Kafka, and be stored in PostgreSQL exactly once with consistent side effects.

const cluster = new PrivateKafka();
let run: OrderRun | null = null;

// set-up budgets, not speeds: a JVM start on a loaded 2-core machine takes minutes (KAFKA_START_TIMEOUT_S)
beforeAll(() => cluster.start(), 300_000);
afterAll(async () => {
  await run?.cleanup();
  await cluster.destroy();
}, 120_000);

/**
 * Waits until PostgreSQL holds more orders than now; fails with the services' logs after `withinMs`.
 * A stall, not a speed: a member lost with its broker holds the group up for its session timeout
 * (10 s, src/kafka-defaults.ts) and a rebalance, longer on a loaded CI machine (15 s was missed
 * once), so the bound leaves room for that and would still catch a partition left stalled.
 */
async function ordersKeepArriving(r: OrderRun, after: string, withinMs = 45_000): Promise<void> {
  const started = Date.now();
  const before = await r.stored();
  while (Date.now() - started < withinMs) {
    await Bun.sleep(250);
    if ((await r.stored()) > before) return;
  }
  const logs = [r.producer, ...r.consumers].map((s) => `--- ${s.name}\n${s.output().slice(-2500)}`).join("\n");
  throw new Error(`no order stored within ${withinMs / 1000} s of ${after} (${before} stored):\n${logs}`);
}

/**
 * Waits for the run's first 500 orders in PostgreSQL: a set-up budget, not a speed. Right after the
 * whole cluster came back, a new group's first join and the producer's first acks waited on the
 * brokers' recovery for over a minute once on a loaded CI machine; fails with every service's log.
 */
async function untilFlowing(r: OrderRun, withinMs = 150_000): Promise<void> {
  const deadline = Date.now() + withinMs;
  let stored = 0;
  while ((stored = await r.stored()) < 500) {
    if (Date.now() > deadline) {
      const logs = [r.producer, ...r.consumers].map((s) => `--- ${s.name}\n${s.output().slice(-2500)}`).join("\n");
      throw new Error(`orders are not flowing: ${stored} stored after ${withinMs / 1000} s\n${logs}`);
    }
    await Bun.sleep(250);
  }
}

const report = (name: string, counts: object) => console.log(`[faults] ${name}: ${JSON.stringify(counts)}`);

describe("the pipeline survives broker faults without losing an order", () => {
  test("one broker SIGKILLed under load, restarted 20 s later", async () => {
    run = await startOrderRun({ label: "brokerkill", brokers: cluster.brokers, rate: 600, count: 27_000 });
    await untilFlowing(run);
    await cluster.kill(1);
    // the survivors take over the dead broker's partitions: orders keep arriving (no stall)
    await ordersKeepArriving(run, "the kill");
    await Bun.sleep(20_000);
    await cluster.restart(1);
    const counts = await run.verify();
    report("broker SIGKILL", counts);
    await run.cleanup();
    run = null;
  }, 600_000);

  test("rolling SIGTERM restart of all three brokers, one at a time", async () => {
    // no --count: the producer runs until the three rounds are done, however long a busy machine makes them
    run = await startOrderRun({ label: "rolling", brokers: cluster.brokers, rate: 500 });
    await untilFlowing(run);
    for (const node of [1, 2, 3]) {
      await cluster.stop(node);
      await ordersKeepArriving(run, `stopping broker ${node}`);
      await cluster.restart(node);
      await Bun.sleep(3000);
    }
    await ordersKeepArriving(run, "the last restart");
    run.stopProducer();
    const counts = await run.verify();
    report("rolling restart", counts);
    await run.cleanup();
    run = null;
  }, 900_000);

  test("the whole cluster down for 30 s, then back", async () => {
    run = await startOrderRun({ label: "clusterdown", brokers: cluster.brokers, rate: 500, count: 25_000 });
    await untilFlowing(run);
    await Promise.all([1, 2, 3].map((n) => cluster.kill(n)));
    const during = await run.stored();
    await Bun.sleep(30_000);
    expect(run.producer.proc.exitCode).toBeNull(); // still alive, buffering
    await Promise.all([1, 2, 3].map((n) => cluster.restart(n)));
    const counts = await run.verify();
    expect(counts.stored).toBeGreaterThan(during);
    report("cluster down 30 s", counts);
    await run.cleanup();
    run = null;
  }, 600_000);

  test("a producer told twice to stop while its cluster is down stops at once and says how many it did not deliver", async () => {
    run = await startOrderRun({ label: "forced", brokers: cluster.brokers, rate: 300 });
    await untilFlowing(run);
    await Promise.all([1, 2, 3].map((n) => cluster.kill(n)));
    await Bun.sleep(3000); // orders pile up in its buffer
    const { proc } = run.producer;
    proc.kill("SIGTERM"); // the first Ctrl-C: it flushes, for up to 30 s
    await Bun.sleep(3000);
    expect(proc.exitCode).toBeNull();
    const forcedAt = Date.now();
    proc.kill("SIGTERM"); // the second
    const code = await proc.exited;
    expect(Date.now() - forcedAt).toBeLessThan(5000);
    expect(code).toBe(1);
    const out = run.producer.output();
    const [generated, acked] = /stopped: (\d+) orders generated, (\d+) acknowledged/.exec(out)!.slice(1).map(Number) as [number, number];
    const lost = Number(/(\d+) message\(s\) not delivered: the stop was forced/.exec(out)?.[1]);
    expect(generated - acked).toBeGreaterThan(0);
    expect(lost).toBeGreaterThanOrEqual(generated - acked); // its new products among them
    report("forced stop, cluster down", { generated, acked, lost });
    await Promise.all([1, 2, 3].map((n) => cluster.restart(n)));
    await run.cleanup();
    run = null;
  }, 600_000);
});

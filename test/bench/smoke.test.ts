import { afterAll, beforeAll, expect, test } from "bun:test";
import { type BenchContext, closeBench, openBench, runKafkaOff, runKafkaOn } from "../../bench/tps.ts";

// `bun bench` in miniature: both modes of the TPS harness against the real stack, a few thousand
// orders each. Asserts delivery only — every generated order in PostgreSQL exactly once — never a
// speed (the machine is shared; speeds live in bench/RESULTS.md).

const ORDERS = 3_000;
let ctx: BenchContext;

beforeAll(async () => {
  ctx = await openBench({ quiet: true, users: 2_000, products: 2_000, seed: "smoke" });
}, 60_000);

afterAll(async () => {
  if (ctx) await closeBench(ctx);
}, 60_000);

test("Kafka ON: producer → 3 brokers → 3 order consumers → every order in PostgreSQL exactly once", async () => {
  const on = await runKafkaOn(ctx, ctx.config.kafkaClient, ORDERS);
  expect(on.rows).toBe(ORDERS);
  expect(on.distinctIds).toBe(ORDERS);
  expect(on.idsMatch).toBe(true);
  expect(on.dlq).toBe(0);
  expect(on.exactlyOnce).toBe(true);
  expect(on.scheduled).toBe(ORDERS); // each order stored with its next lifecycle step
}, 240_000); // the harness's own waits fail first: the group's join (90 s), a stall (60 s)

test("Kafka OFF: the same generator straight to PostgreSQL → every order exactly once", async () => {
  const off = await runKafkaOff(ctx, ORDERS, { maxBatch: 500, lanes: 3 });
  expect(off.rows).toBe(ORDERS);
  expect(off.distinctIds).toBe(ORDERS);
  expect(off.idsMatch).toBe(true);
  expect(off.exactlyOnce).toBe(true);
  expect(off.scheduled).toBe(ORDERS); // the same rows as the consumers write, next step included
}, 60_000);

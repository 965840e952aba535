import { afterAll, expect, test } from "bun:test";
import { consumerLag } from "../../src/kafka/lag.ts";
import { startOrderRun, type OrderRun } from "../support/order-run.ts";
import { until } from "../support/until.ts";

// Order consumers SIGKILLed again and again while they write: whatever batch a consumer was in
// the middle of is replayed by its successor, and the idempotent writes make the replay change
// nothing twice — every order stored once, order_count and last_ordered_at exact.

let run: OrderRun | null = null;
afterAll(async () => {
  await run?.cleanup();
}, 60_000);

test("consumers SIGKILLed mid-batch lose nothing and double-count nothing", async () => {
  run = await startOrderRun({ label: "consumerkill", rate: 1500, count: 30_000 });
  const lagNow = async () =>
    (await consumerLag(run!.topics.admin, run!.topics.names))
      .filter((l) => l.topic === run!.topics.names.topic("orders"))
      .reduce((s, l) => s + l.lag, 0);
  // the load under way first, however long the services take to start on a busy machine
  await until("orders flowing", async () => (await run!.stored()) >= 1000, {
    timeoutMs: 90_000,
    services: [run.producer, ...run.consumers],
  });
  let killsUnderLag = 0;
  for (let k = 0; k < 6; k++) {
    await Bun.sleep(2500);
    // a kill while records are waiting: the victim is fetching or writing, its batch uncommitted
    if ((await lagNow()) > 0) killsUnderLag++;
    await run.killConsumer(k % 3);
  }
  expect(killsUnderLag).toBeGreaterThan(0);
  const counts = await run.verify();
  console.log(`[faults] consumer SIGKILL ×6: ${JSON.stringify(counts)}`);
  await run.cleanup();
  run = null;
}, 300_000);

import { expect, test } from "bun:test";
import { settledOrAborted } from "../../src/services/runtime.ts";

test("settledOrAborted() ends with the work, or at the stop if the work never ends", async () => {
  const stop = new AbortController();
  await settledOrAborted(Bun.sleep(10), stop.signal);
  await settledOrAborted(Promise.reject(new Error("failed")), stop.signal); // never rejects

  const never = new Promise<void>(() => {}); // Kafka never acknowledges
  let ended = false;
  const waiting = settledOrAborted(never, stop.signal).then(() => (ended = true));
  await Bun.sleep(50);
  expect(ended).toBe(false);
  stop.abort();
  await waiting;
  expect(ended).toBe(true);
  await settledOrAborted(never, stop.signal); // already stopped: returns at once
});

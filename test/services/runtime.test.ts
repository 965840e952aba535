import { expect, test } from "bun:test";
import { every, periodically, rateLoop, settledOrAborted } from "../../src/services/runtime.ts";

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

test("rateLoop() keeps the rate, and forgives a stall's backlog beyond one second instead of bursting it", async () => {
  const stop = new AbortController();
  let emitted = 0;
  let stalled = false;
  let afterStall = 0;
  const loop = rateLoop(
    1000,
    async () => {
      emitted++;
      if (stalled) afterStall++;
      if (emitted === 100) {
        await Bun.sleep(2500); // the producer's buffer stays full for 2.5 s
        stalled = true;
      }
    },
    stop.signal,
  );
  await Bun.sleep(3000);
  stop.abort();
  await loop;
  // a backlog of 2.5 s at 1,000/s is 2,500 orders; at most one second's worth comes out after the stall
  expect(afterStall).toBeGreaterThan(900);
  expect(afterStall).toBeLessThan(2000); // without the forgiveness it would be ≈ 2,900
  expect(emitted).toBeLessThan(3000);
});

test("every() waits an interval before each tick; `immediately` ticks once at once first", async () => {
  const stop = new AbortController();
  const ticks: number[] = [];
  const started = performance.now();
  const tick = () => {
    ticks.push(performance.now() - started);
  };
  // a long gap, as the volume curve gives at night (30 s)
  const waiting = every(() => 30_000, tick, stop.signal);
  const prompt = every(() => 30_000, tick, stop.signal, { immediately: true });
  await Bun.sleep(300);
  stop.abort();
  await Promise.all([waiting, prompt]); // both stop at the abort, mid-interval
  expect(ticks).toHaveLength(1);
  expect(ticks[0]).toBeLessThan(50);

  const aborted = new AbortController();
  aborted.abort();
  await every(() => 10, tick, aborted.signal, { immediately: true }); // already stopped: no tick
  expect(ticks).toHaveLength(1);
});

test("every() waits for a tick in flight at the abort, unless told to leave it (a query to a database that hangs)", async () => {
  const hung = new Promise<void>(() => {}); // PostgreSQL frozen: the query never settles
  let ticks = 0;
  const tick = () => {
    ticks++;
    return hung;
  };
  const stop = new AbortController();
  let waitingEnded = false;
  const waiting = every(() => 10, tick, stop.signal, { immediately: true }).then(() => (waitingEnded = true));
  const leaving = every(() => 10, tick, stop.signal, { immediately: true, leaveAtAbort: true });
  await Bun.sleep(50);
  stop.abort();
  const started = performance.now();
  await leaving; // returns at the abort
  expect(performance.now() - started).toBeLessThan(50);
  await Bun.sleep(50);
  expect(waitingEnded).toBe(false); // the default waits for its tick, however long
  expect(ticks).toBe(2); // one each: a hung tick is never overlapped by the next
  void waiting;

  // a tick that ends before the abort still reports its failure
  const failing = every(
    () => 10,
    () => Promise.reject(new Error("boom")),
    new AbortController().signal,
    { immediately: true, leaveAtAbort: true },
  );
  await expect(failing).rejects.toThrow("boom");
});

test("periodically() runs once per period however long a run takes, and tells a failure storm in summaries", async () => {
  const stop = new AbortController();
  const errors: string[] = [];
  const log = { info() {}, warn() {}, error: (msg: string) => errors.push(msg) };
  const runs: { start: number; end: number }[] = [];
  const loop = periodically(
    100,
    async () => {
      const run = { start: performance.now(), end: 0 };
      runs.push(run);
      if (runs.length === 6) stop.abort(); // five whole periods
      await Bun.sleep(90); // a run that takes most of its period
      run.end = performance.now();
      throw new Error("database gone");
    },
    { log, signal: stop.signal },
    "reload failed:",
  );
  await loop;
  // each run starts a period after the previous one started, or at its end when it overran:
  // counted from its end instead, runs would start about 90 ms later each time
  const late = runs.slice(1).map((r, i) => {
    const before = runs[i] as { start: number; end: number };
    return r.start - Math.max(before.start + 100, before.end);
  });
  expect(late.sort((a, b) => a - b)[Math.floor(late.length / 2)] as number).toBeLessThan(45);
  // the first failure in full, the rest counted at the stop: not a line per period
  expect(errors[0]).toBe("reload failed: database gone");
  expect(errors).toHaveLength(2);
  expect(errors[1]).toMatch(/^[\d,]+ more in the last 5 s: database gone$/);
});

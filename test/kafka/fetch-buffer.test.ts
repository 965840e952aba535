import { expect, test } from "bun:test";
import { FetchBuffer } from "../../src/kafka/adapters/fetch-buffer.ts";

/** A stream stand-in that records what the buffer asked of it, in order. */
function recordingFlow() {
  const calls: string[] = [];
  return { calls, flow: { pause: () => calls.push("pause"), resume: () => calls.push("resume") } };
}

const fill = (buffer: FetchBuffer<{ partition: number; n: number }>, partition: number, count: number) => {
  for (let n = 0; n < count; n++) buffer.push({ partition, n });
};

test("fetching pauses at the high mark and resumes once a batch taken leaves less than a batch", () => {
  const { calls, flow } = recordingFlow();
  const buffer = new FetchBuffer<{ partition: number; n: number }>(() => flow, 3, 7);
  fill(buffer, 0, 5);
  fill(buffer, 1, 2);
  expect(calls).toEqual(["pause"]);
  // one partition at a time, oldest first, at most a batch
  expect(buffer.take().map((m) => [m.partition, m.n])).toEqual([
    [0, 0],
    [0, 1],
    [0, 2],
  ]);
  expect(calls).toEqual(["pause"]); // 4 left: still a batch or more
  expect(buffer.take().map((m) => [m.partition, m.n])).toEqual([
    [0, 3],
    [0, 4],
  ]);
  expect(calls).toEqual(["pause", "resume"]);
  expect(buffer.paused).toBe(false);
});

test("a rebalance that takes the buffered partitions away resumes fetching: a paused stream over an empty buffer would never fetch again", () => {
  const { calls, flow } = recordingFlow();
  const buffer = new FetchBuffer<{ partition: number; n: number }>(() => flow, 3, 6);
  fill(buffer, 1, 3);
  fill(buffer, 2, 3);
  expect(buffer.paused).toBe(true);
  buffer.keep(new Set([0])); // this member now owns partition 0 only, of which nothing is buffered
  expect(buffer.size).toBe(0);
  expect(buffer.take()).toEqual([]);
  expect(calls).toEqual(["pause", "resume"]);
});

test("a rebalance that keeps a batch or more buffered leaves fetching paused until a batch is taken", () => {
  const { calls, flow } = recordingFlow();
  const buffer = new FetchBuffer<{ partition: number; n: number }>(() => flow, 3, 6);
  fill(buffer, 1, 4);
  fill(buffer, 2, 2);
  buffer.keep(new Set([1]));
  expect(calls).toEqual(["pause"]);
  expect(buffer.take()).toHaveLength(3);
  expect(calls).toEqual(["pause", "resume"]);
});

test("a cleared buffer starts unpaused without touching the old stream, and pauses the new one when full again", () => {
  const { calls, flow } = recordingFlow();
  const buffer = new FetchBuffer<{ partition: number; n: number }>(() => flow, 2, 4);
  fill(buffer, 0, 4);
  buffer.clear();
  expect([buffer.paused, buffer.size]).toEqual([false, 0]);
  expect(calls).toEqual(["pause"]);
  fill(buffer, 0, 4);
  expect(calls).toEqual(["pause", "pause"]);
});

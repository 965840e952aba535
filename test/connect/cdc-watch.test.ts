import { expect, test } from "bun:test";
import type { CdcState } from "../../src/connect/cdc.ts";
import { CdcWatch } from "../../src/connect/cdc-watch.ts";

// The watch's decisions, look by look: what it restarts, when, and what it says (once, not per look).

const MiB = 2 ** 20;
const running = (retainedMb = 1): CdcState => ({
  connector: "RUNNING",
  tasks: [{ id: 0, state: "RUNNING" }],
  slot: { active: true, retainedBytes: retainedMb * MiB },
});
const taskFailed: CdcState = {
  connector: "RUNNING",
  tasks: [{ id: 0, state: "FAILED", trace: "org.apache.kafka.connect.errors.ConnectException: publication does not exist\n\tat ..." }],
  slot: { active: false, retainedBytes: MiB },
};

test("a failed task is restarted at once, then at 5, 10, 20 s … while it fails, said once with its first trace line; running again is said once", () => {
  const watch = new CdcWatch("shopstream-cdc", 1024 * MiB);
  const restarts: number[] = [];
  const said: string[] = [];
  for (let s = 0; s <= 60; s++) {
    const step = watch.observe(s < 50 ? taskFailed : running(), s * 1000);
    if (step.restart) restarts.push(s);
    said.push(...step.warnings, ...step.notes);
  }
  expect(restarts).toEqual([0, 5, 15, 35]);
  expect(said).toHaveLength(2);
  expect(said[0]).toContain("task 0 FAILED (org.apache.kafka.connect.errors.ConnectException: publication does not exist)");
  expect(said[1]).toBe("CDC connector shopstream-cdc running again after 4 restart(s)");
  // a new failure starts its waits afresh
  expect(watch.observe(taskFailed, 61_000).restart).toBe(true);
});

test("the slot's WAL is warned of once when it crosses the threshold, and said once when it falls back below half", () => {
  const watch = new CdcWatch("shopstream-cdc", 100 * MiB);
  const lines = [50, 120, 300, 80, 40, 30, 150].map((mb) => watch.observe(running(mb), 0));
  expect(lines.map((l) => l.warnings.length)).toEqual([0, 1, 0, 0, 0, 0, 1]);
  expect(lines.map((l) => l.notes.length)).toEqual([0, 0, 0, 0, 1, 0, 0]);
  expect(lines[1]!.warnings[0]).toContain("holds back 120 MiB of WAL (over CDC_WAL_WARN_MB=100)");
  expect(lines.some((l) => l.restart)).toBe(false);
});

test("a worker that does not answer, or a connector missing from it, is said once and nothing is restarted", () => {
  const watch = new CdcWatch("shopstream-cdc", 1024 * MiB);
  const away: CdcState = { connector: "UNREACHABLE", tasks: [], slot: null };
  const missing: CdcState = { connector: "MISSING", tasks: [], slot: null };
  const steps = [away, away, running(), missing, missing].map((s) => watch.observe(s, 0));
  expect(steps.map((s) => s.warnings.length)).toEqual([1, 0, 0, 1, 0]);
  expect(steps[2]!.notes).toEqual(["Kafka Connect answers again"]);
  expect(steps.some((s) => s.restart)).toBe(false);
});

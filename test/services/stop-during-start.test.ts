import { afterAll, beforeAll, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { openStage, type Stage } from "../support/stage.ts";
import { until } from "../support/until.ts";

// A SIGTERM that arrives while a service is still starting (connecting to PostgreSQL, joining its
// consumer group) must stop it once it has started: a test that gives up early, or a supervisor
// stopping a pipeline that has just come up, would otherwise leave a process nobody stops.

let stage: Stage;

beforeAll(async () => {
  stage = await openStage({ label: "stop_during_start", users: 200, products: 100 });
}, 120_000);

afterAll(async () => {
  await stage?.close();
}, 120_000);

/** True once the process has a handler for SIGTERM (SigCgt bit 15): the service's own, installed before it starts. */
function catchesSigterm(pid: number): boolean {
  try {
    const mask = /SigCgt:\s*([0-9a-f]+)/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1];
    return mask !== undefined && (BigInt(`0x${mask}`) & (1n << 14n)) !== 0n;
  } catch {
    return false;
  }
}

const SERVICES: [name: string, file: string, args: string[]][] = [
  ["orders-consumer", "consumer.ts", ["orders"]],
  ["users-consumer", "consumer.ts", ["users"]],
  ["producer", "producer.ts", ["--rate", "50"]],
  ["lifecycle", "lifecycle.ts", []],
  ["cache-worker", "cache-worker.ts", []],
  ["grade-updater", "grade-updater.ts", []],
];

test("every long-running service told to stop while it starts stops once started, exit 0", async () => {
  const started = SERVICES.map(([name, file, args]) => stage.start(name, file, args, { INSTANCE: "1" }));
  // each is signalled as soon as it listens for the signal: before any of its start-up has finished
  await Promise.all(
    started.map(async (s) => {
      await until(`${s.name} to listen for SIGTERM`, () => catchesSigterm(s.proc.pid) || s.proc.exitCode !== null, {
        pollMs: 5,
        services: [s],
      });
      s.proc.kill("SIGTERM");
    }),
  );
  const codes = await Promise.all(
    started.map(async (s) => {
      const code = await Promise.race([s.proc.exited, Bun.sleep(60_000).then(() => "still running 60 s after SIGTERM")]);
      return `${s.name}: ${code}`;
    }),
  );
  expect(codes).toEqual(SERVICES.map(([name]) => `${name}: 0`));
  for (const s of started) expect(s.output()).toContain("SIGTERM received");
}, 120_000);

import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Supervisor } from "../../src/cli/supervisor.ts";

const dir = mkdtempSync(join(tmpdir(), "supervisor-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function script(name: string, body: string): string[] {
  const file = join(dir, `${name}.ts`);
  writeFileSync(file, body);
  return [process.execPath, "run", file];
}

test("prefixes output, restarts a crashed service, and stops stage by stage", async () => {
  const lines: string[] = [];
  const events: string[] = [];
  const stopLog = join(dir, "stops.log");
  const graceful = (name: string) =>
    script(
      name,
      `
    import { appendFileSync } from "node:fs";
    console.log("${name} up");
    process.on("SIGTERM", () => { appendFileSync(${JSON.stringify(stopLog)}, "${name}\\n"); process.exit(0); });
    setInterval(() => {}, 1000);
  `,
    );
  const sup = new Supervisor(
    [
      { name: "producer", cmd: graceful("producer"), stopStage: 0 },
      { name: "consumer", cmd: graceful("consumer"), stopStage: 2 },
      { name: "crasher", cmd: script("crasher", `console.log("crasher up"); process.exit(3);`), stopStage: 1 },
      { name: "once", cmd: script("once", `console.log("done once");`), oneShot: true },
    ],
    (l) => lines.push(l),
  );
  sup.startAll();
  await Bun.sleep(2500); // the crasher's first restart comes after 1 s
  await sup.stop({
    beforeStage: async (stage) => {
      events.push(`stage ${stage}`);
    },
  });

  expect(lines.some((l) => /^producer +\| producer up$/.test(l))).toBe(true);
  expect(lines.some((l) => l.includes("crasher") && l.includes("exited with code 3; restarting in 1 s"))).toBe(true);
  expect(lines.filter((l) => l.endsWith("| crasher up")).length).toBeGreaterThanOrEqual(2);
  expect(sup.restarts.get("crasher")).toBeGreaterThanOrEqual(1);
  expect(sup.restarts.get("once")).toBeUndefined(); // a clean one-shot exit is not a crash
  expect(events).toEqual(["stage 0", "stage 1", "stage 2"]);
  expect((await Bun.file(stopLog).text()).trim().split("\n")).toEqual(["producer", "consumer"]);
});

test("the process running stop() exits as soon as its services have, long before the grace is over", async () => {
  // start:all ends when nothing is left pending: neither a kill timer of a service that stopped in
  // time nor a restart still waiting for a service that crashed just before the stop
  const quick = script("quick", `process.on("SIGTERM", () => process.exit(0)); setInterval(() => {}, 1000);`);
  const crasher = script("crash-now", `process.exit(3);`);
  const runner = script(
    "runner",
    `
    import { Supervisor } from ${JSON.stringify(join(import.meta.dir, "../../src/cli/supervisor.ts"))};
    const sup = new Supervisor([
      { name: "quick", cmd: ${JSON.stringify(quick)}, stopStage: 0 },
      { name: "crasher", cmd: ${JSON.stringify(crasher)}, stopStage: 1 },
    ], () => {});
    sup.startAll();
    await Bun.sleep(500);
    await sup.stop({ graceMs: 60_000 });
    console.log("stopped");
  `,
  );
  const started = performance.now();
  const proc = Bun.spawn(runner, { stdout: "pipe", stderr: "inherit" });
  expect(await proc.exited).toBe(0);
  expect(await new Response(proc.stdout).text()).toBe("stopped\n");
  expect(performance.now() - started).toBeLessThan(15_000);
});

test("a service that ignores SIGTERM is killed once the grace is over", async () => {
  const stubborn = script("stubborn", `process.on("SIGTERM", () => {}); console.log("up"); setInterval(() => {}, 1000);`);
  const lines: string[] = [];
  const sup = new Supervisor([{ name: "stubborn", cmd: stubborn }], (l) => lines.push(l));
  sup.startAll();
  for (const until = Date.now() + 10_000; !lines.some((l) => l.endsWith("| up")) && Date.now() < until; ) await Bun.sleep(50);
  const started = performance.now();
  await sup.stop({ graceMs: 1000 });
  expect(performance.now() - started).toBeGreaterThanOrEqual(900);
  expect(sup.pids()).toEqual([]);
});

test("a forced stop tells every service twice, so each stops at once and says what it leaves undelivered", async () => {
  // as the services' runtime does: the first SIGTERM starts a stop that waits (a flush), the second ends it
  const twoStep = (name: string) =>
    script(
      name,
      `
    let signals = 0;
    process.on("SIGTERM", () => {
      if (++signals === 1) return console.log("${name} flushing");
      console.log("${name}: 7 message(s) not delivered: the stop was forced");
      process.exit(1);
    });
    console.log("${name} up");
    setInterval(() => {}, 1000);
  `,
    );
  const lines: string[] = [];
  const sup = new Supervisor(
    [
      { name: "producer", cmd: twoStep("producer"), stopStage: 0 },
      { name: "consumer", cmd: twoStep("consumer"), stopStage: 1 },
    ],
    (l) => lines.push(l),
  );
  sup.startAll();
  for (const until = Date.now() + 10_000; lines.filter((l) => l.endsWith(" up")).length < 2 && Date.now() < until; ) await Bun.sleep(50);
  const stopping = sup.stop({ graceMs: 60_000 }); // the first Ctrl-C: the producer flushes, for up to a minute
  for (const until = Date.now() + 10_000; !lines.some((l) => l.endsWith("producer flushing")) && Date.now() < until; ) await Bun.sleep(50);
  const forcedAt = performance.now();
  await sup.hurry(5000); // the second Ctrl-C
  expect(performance.now() - forcedAt).toBeLessThan(3000); // they exited by themselves, not killed after 5 s
  expect(lines.filter((l) => l.includes("not delivered: the stop was forced")).length).toBe(2);
  expect(sup.pids()).toEqual([]);
  await stopping;
});

test("JSON log lines (LOG_FORMAT=json) pass through unprefixed; text lines get the service's prefix", async () => {
  const both = script(
    "both",
    `console.log(JSON.stringify({ service: "both", msg: "up" })); console.log("plain up"); setInterval(() => {}, 1000);`,
  );
  const lines: string[] = [];
  const sup = new Supervisor([{ name: "both", cmd: both }], (l) => lines.push(l));
  sup.startAll();
  for (const until = Date.now() + 10_000; lines.length < 2 && Date.now() < until; ) await Bun.sleep(50);
  await sup.stop({ graceMs: 1000 });
  expect(lines).toContain('{"service":"both","msg":"up"}');
  expect(lines.some((l) => /^both +\| plain up$/.test(l))).toBe(true);
});

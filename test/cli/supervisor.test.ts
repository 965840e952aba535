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
  const graceful = (name: string) => script(name, `
    import { appendFileSync } from "node:fs";
    console.log("${name} up");
    process.on("SIGTERM", () => { appendFileSync(${JSON.stringify(stopLog)}, "${name}\\n"); process.exit(0); });
    setInterval(() => {}, 1000);
  `);
  const sup = new Supervisor([
    { name: "producer", cmd: graceful("producer"), stopStage: 0 },
    { name: "consumer", cmd: graceful("consumer"), stopStage: 2 },
    { name: "crasher", cmd: script("crasher", `console.log("crasher up"); process.exit(3);`), stopStage: 1 },
    { name: "once", cmd: script("once", `console.log("done once");`), oneShot: true },
  ], (l) => lines.push(l));
  sup.startAll();
  await Bun.sleep(2500); // the crasher's first restart comes after 1 s
  await sup.stop({ beforeStage: async (stage) => { events.push(`stage ${stage}`); } });

  expect(lines.some((l) => /^producer +\| producer up$/.test(l))).toBe(true);
  expect(lines.some((l) => l.includes("crasher") && l.includes("exited with code 3; restarting in 1 s"))).toBe(true);
  expect(lines.filter((l) => l.endsWith("| crasher up")).length).toBeGreaterThanOrEqual(2);
  expect(sup.restarts.get("crasher")).toBeGreaterThanOrEqual(1);
  expect(sup.restarts.get("once")).toBeUndefined(); // a clean one-shot exit is not a crash
  expect(events).toEqual(["stage 0", "stage 1", "stage 2"]);
  expect((await Bun.file(stopLog).text()).trim().split("\n")).toEqual(["producer", "consumer"]);
});

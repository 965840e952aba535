import { afterAll, beforeAll, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { TestDatabase } from "../../support/db.ts";
import { processesOfPrefix } from "../support/services.ts";
import { openStage, type Stage } from "../support/stage.ts";
import type { TestTopics } from "../support/kafka.ts";

// `kill -9` of start:all: nobody is left to stop the services it started (each runs in a process
// group of its own), so each notices it lost its supervisor and stops by itself. No service may
// outlive it, whatever killed it.

const ROOT = join(import.meta.dir, "../..");
let stage: Stage;
let db: TestDatabase;
let t: TestTopics;

beforeAll(async () => {
  stage = await openStage({ label: "kill9", empty: true });
  ({ db, topics: t } = stage);
});
afterAll(async () => {
  for (const pid of ourProcesses()) process.kill(pid, "SIGKILL");
  await stage?.close();
});

/** Pids of processes started for this test's pipeline. */
const ourProcesses = () => processesOfPrefix(t.prefix, { runningOnly: true });

test("kill -9 of start:all leaves no service running", async () => {
  const proc = Bun.spawn([process.execPath, "run", join(ROOT, "src/cli/start-all.ts"), "--rate", "200"], {
    cwd: ROOT,
    env: {
      ...process.env,
      ...stage.env,
      SEED_USERS: "2000",
      SEED_PRODUCTS: "2000",
    },
    stdout: "ignore",
    stderr: "ignore",
  });
  // running: orders flow into PostgreSQL, every service up
  const deadline = Date.now() + 90_000;
  for (;;) {
    const [row] = await db.sql`select count(*)::int as n from orders`.catch(() => [{ n: 0 }]);
    if ((row?.n ?? 0) > 200) break;
    if (Date.now() > deadline) throw new Error("no orders after 90 s");
    await Bun.sleep(500);
  }
  const services = ourProcesses().filter((pid) => pid !== proc.pid);
  expect(services.length).toBeGreaterThanOrEqual(15);

  proc.kill("SIGKILL");
  await proc.exited;
  let left = ourProcesses();
  for (const stopBy = Date.now() + 45_000; left.length > 0 && Date.now() < stopBy; left = ourProcesses()) await Bun.sleep(250);
  const names = left.map((pid) => readFileSync(`/proc/${pid}/cmdline`, "latin1").replace(/\0/g, " ").trim());
  expect(names).toEqual([]);
}, 180_000);

import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import { createTestDatabase, type TestDatabase } from "../../support/db.ts";

// `bun run historical` as a user runs it: its own flags (not the live services'), a small catalogue
// seeded on an empty database, the rows it reports are the rows in PostgreSQL; a bad flag is one
// message with the usage and exit code 2.

const CLI = join(import.meta.dir, "../../src/cli/historical.ts");
let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase("historical_cli");
});
afterAll(async () => {
  await db.drop();
});

const run = (args: string[]) => {
  const proc = Bun.spawnSync([process.execPath, "run", CLI, ...args], {
    env: { ...process.env, DATABASE_URL: db.url, SEED_USERS: "500", SEED_PRODUCTS: "300" },
  });
  return { code: proc.exitCode, out: proc.stdout.toString(), err: proc.stderr.toString() };
};

test("runs with its own flags and writes what it reports", async () => {
  const r = run(["--start", "2025-03-01", "--days", "3", "--seed", "cli"]);
  expect([r.code, r.err.split("\n").filter((l) => /ERROR|config error/.test(l))]).toEqual([0, []]);
  const done = /done: ([\d,]+) orders/.exec(r.out);
  expect(done).not.toBeNull();
  const [row] = await db.sql`select count(*)::int as n from orders where source = 'historical'`;
  expect(row!.n).toBe(Number(done![1]!.replaceAll(",", "")));
  expect(row!.n).toBeGreaterThan(100);
}, 60_000);

test("--clicks writes the clickstream it reports", async () => {
  const r = run(["--start", "2025-03-01", "--days", "3", "--seed", "cli", "--clicks", "--reset"]);
  expect([r.code, r.err.split("\n").filter((l) => /ERROR|config error/.test(l))]).toEqual([0, []]);
  const done = /done: [\d,]+ orders .*; ([\d,]+) clicks in ([\d,]+) sessions/.exec(r.out);
  expect(done, r.out).not.toBeNull();
  const [row] = await db.sql`select (select count(*) from click_events)::int as clicks, (select count(*) from sessions)::int as sessions`;
  expect(row).toEqual({ clicks: Number(done![1]!.replaceAll(",", "")), sessions: Number(done![2]!.replaceAll(",", "")) });
  expect(row!.clicks).toBeGreaterThan(1000);
}, 60_000);

test("a flag it does not know is refused with the usage", () => {
  const r = run(["--rate", "5"]);
  expect(r.code).toBe(2);
  expect(r.err).toContain("usage: bun run historical");
});

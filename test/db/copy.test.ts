import { afterAll, beforeAll, expect, test } from "bun:test";
import { copyRows } from "../../src/db/copy.ts";
import { createTestDatabase, type TestDatabase } from "../../support/db.ts";

// COPY is the bulk path of the seeders and the historical year. A COPY the server refuses must fail
// with the server's own error and leave the connection usable, never hang or crash the process:
// PostgreSQL's refusal reaches the client when the COPY ends (postgres.js 3.4.9 then forgot the
// writable's end callback: patches/postgres@3.4.9.patch), also with megabytes sent under
// back-pressure; CopyStream also rejects a refusal that comes while rows are still being sent.

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase("copy");
  await db.sql`create table copy_probe (id int primary key, small smallint not null)`;
  await db.sql`create table copy_wide (id int primary key, small smallint not null, payload text not null)`;
});

afterAll(async () => {
  await db?.drop();
});

/** The promise's outcome, or "still waiting" after `ms`. */
function settledWithin<T>(promise: Promise<T>, ms: number): Promise<{ ok: T } | { err: unknown } | "still waiting"> {
  return Promise.race([
    promise.then(
      (ok) => ({ ok }),
      (err: unknown) => ({ err }),
    ),
    Bun.sleep(ms).then(() => "still waiting" as const),
  ]);
}

test("a COPY PostgreSQL refuses (a value beyond its column) rejects with the server's error", async () => {
  const outcome = await settledWithin(
    copyRows(
      db.sql,
      "copy_probe",
      ["id", "small"],
      [
        [1, 1],
        [2, 40_000],
      ],
    ),
    5000,
  );
  expect(outcome).not.toBe("still waiting");
  expect(outcome).toHaveProperty("err");
  const err = (outcome as { err: { code?: string; message: string } }).err;
  expect(err.code).toBe("22003");
  expect(err.message).toContain("smallint");
  expect((await db.sql`select count(*)::int as n from copy_probe`)[0]!.n).toBe(0); // all or nothing
});

test("a COPY refused inside a transaction rolls it back and frees the connection", async () => {
  const outcome = await settledWithin(
    db.sql.begin(async (tx) => {
      await tx`insert into copy_probe values (10, 1)`;
      await copyRows(tx as unknown as typeof db.sql, "copy_probe", ["id", "small"], [[10, 1]]); // duplicate key
    }),
    5000,
  );
  expect(outcome).toHaveProperty("err");
  expect((outcome as { err: { code?: string } }).err.code).toBe("23505");
  // the pool is not left with a connection idle in an aborted transaction: more work goes through
  const rows = await copyRows(
    db.sql,
    "copy_probe",
    ["id", "small"],
    [
      [20, 2],
      [21, 3],
    ],
  );
  expect(rows).toBe(2);
  expect((await db.sql`select array_agg(id order by id) as ids from copy_probe`)[0]!.ids).toEqual([20, 21]);
  const [stuck] =
    await db.sql`select count(*)::int as n from pg_stat_activity where datname = current_database() and state = 'idle in transaction (aborted)'`;
  expect(stuck!.n).toBe(0);
});

test("a refused COPY of megabytes sent under back-pressure rejects too, and the connection goes on", async () => {
  const payload = "x".repeat(2000);
  // the bad row first: PostgreSQL answers while the next ~6 MB are on their way
  const rows = Array.from({ length: 3000 }, (_, i) => [i, i === 0 ? 40_000 : 1, payload] as const);
  const outcome = await settledWithin(copyRows(db.sql, "copy_wide", ["id", "small", "payload"], rows), 10_000);
  expect(outcome).not.toBe("still waiting");
  expect((outcome as { err: { code?: string } }).err.code).toBe("22003");
  expect((await db.sql`select count(*)::int as n from copy_wide`)[0]!.n).toBe(0);
  expect(await copyRows(db.sql, "copy_wide", ["id", "small", "payload"], rows.slice(1))).toBe(2999);
});

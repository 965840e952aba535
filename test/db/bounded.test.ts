import { afterAll, beforeAll, expect, test } from "bun:test";
import { BoundedPool, QueryTimeout } from "../../src/db/bounded.ts";
import { PrivatePostgres } from "../support/postgres-server.ts";

// The deadline of the consumers' writes against a real server that hangs (every process of a
// private PostgreSQL SIGSTOPped): a query on an open connection would wait forever.

const pg = new PrivatePostgres();
const url = () => pg.url.replace(/\/shopstream$/, "/postgres");

beforeAll(() => pg.init());
afterAll(() => pg.destroy());

test("a query the frozen server never answers fails at the deadline, and the pool works again once it is back", async () => {
  const pool = new BoundedPool(url(), { max: 2, timeoutMs: 2000 });
  try {
    const [row] = await pool.run("probe", (sql) => sql`show statement_timeout`);
    expect(row?.statement_timeout).toBe("2s"); // the server cuts a statement of its own at the same bound

    pg.freeze();
    const started = Date.now();
    const err = await pool.run("probe", (sql) => sql`select 1`).catch((e: unknown) => e);
    const took = Date.now() - started;
    pg.thaw();
    expect(err).toBeInstanceOf(QueryTimeout);
    expect((err as QueryTimeout).retriable).toBe(true);
    expect(took).toBeGreaterThanOrEqual(1900);
    expect(took).toBeLessThan(4000);

    // the connections left busy were dropped: the next query gets a new one
    const [again] = await pool.run("probe", (sql) => sql`select 2 as n`);
    expect(again?.n).toBe(2);
  } finally {
    await pool.end();
  }
}, 30_000);

test("end() does not wait for a server that does not answer", async () => {
  const pool = new BoundedPool(url(), { max: 1, timeoutMs: 2000 });
  await pool.run("probe", (sql) => sql`select 1`);
  pg.freeze();
  try {
    const started = Date.now();
    await pool.end();
    expect(Date.now() - started).toBeLessThan(7000);
  } finally {
    pg.thaw();
  }
}, 30_000);

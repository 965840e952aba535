import { connect, dropDatabase, ensureDatabase, type Sql } from "../../src/db/client.ts";
import { migrate } from "../../src/db/migrate.ts";
import { seedCatalogue } from "../../src/db/seed.ts";

// Every benchmark run works in databases of its own: a seeded base, and one clone of it per phase
// (CREATE DATABASE … TEMPLATE copies it in well under a second), dropped at the end. A running
// pipeline's database is never touched.

export interface BenchDatabase {
  name: string;
  url: string;
  sql: Sql;
  drop(): Promise<void>;
}

export function databaseUrl(serverUrl: string, name: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/**
 * The seeded catalogue every phase starts from. Bench-only column: orders.committed_at defaults to
 * clock_timestamp(), the moment the row is written (its transaction commits within the same
 * statement), so end-to-end latency is committed_at − created_at (created_at = generation time).
 */
export async function createBaseDatabase(
  serverUrl: string,
  name: string,
  catalogue: { users: number; products: number; seed: string },
): Promise<BenchDatabase> {
  const url = databaseUrl(serverUrl, name);
  await ensureDatabase(url);
  const sql = connect(url, { max: 2 });
  await migrate(sql);
  await seedCatalogue(sql, { seed: catalogue.seed, users: catalogue.users, products: catalogue.products, now: new Date() });
  await sql`alter table orders add column committed_at timestamptz not null default clock_timestamp()`;
  await sql`vacuum analyze`;
  return handle(name, url, sql);
}

/** A fresh copy of the base (which must have no open connections: end its pool first). */
export async function cloneDatabase(serverUrl: string, base: string, name: string, max = 4): Promise<BenchDatabase> {
  const admin = connect(databaseUrl(serverUrl, "postgres"), { max: 1 });
  try {
    await admin.unsafe(`create database "${name}" template "${base}"`);
  } finally {
    await admin.end();
  }
  const url = databaseUrl(serverUrl, name);
  return handle(name, url, connect(harnessUrl(url), { max }));
}

/** The harness's own connections are named, so that the CPU account leaves them out (backendPids). */
const HARNESS = "shopstream-bench";

function harnessUrl(url: string): string {
  const u = new URL(url);
  u.searchParams.set("application_name", HARNESS);
  return u.toString();
}

function handle(name: string, url: string, sql: Sql): BenchDatabase {
  return {
    name,
    url,
    sql,
    async drop() {
      await sql.end({ timeout: 5 });
      await dropDatabase(url);
    },
  };
}

/**
 * Rows, distinct ids and an order-independent fingerprint of the ids (md5 over the sorted list, as
 * md5OfIds); `scheduled`: rows stored with their next lifecycle step, as the consumers store them.
 */
export async function orderFingerprint(sql: Sql): Promise<{ rows: number; distinct: number; md5: string; scheduled: number }> {
  const [row] = await sql<{ rows: number; distinct: number; md5: string | null; scheduled: number }[]>`
    select count(*)::int as rows, count(distinct id)::int as distinct,
           md5(coalesce(string_agg(id, ',' order by id collate "C"), '')) as md5,
           count(next_status_at)::int as scheduled
    from orders`;
  return { rows: row?.rows ?? 0, distinct: row?.distinct ?? 0, md5: row?.md5 ?? "", scheduled: row?.scheduled ?? 0 };
}

export interface Latency {
  count: number;
  /** generation of the first order → the last row written, in seconds */
  spanS: number;
  tps: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

/** End-to-end figures from the rows themselves: created_at is generation time, committed_at write time. */
export async function endToEnd(sql: Sql): Promise<Latency> {
  const [row] = await sql<{ count: number; span: number | null; p50: number | null; p99: number | null; max: number | null }[]>`
    select count(*)::int as count,
           extract(epoch from max(committed_at) - min(created_at))::float8 as span,
           (percentile_cont(0.5) within group (order by extract(epoch from committed_at - created_at)) * 1000)::float8 as p50,
           (percentile_cont(0.99) within group (order by extract(epoch from committed_at - created_at)) * 1000)::float8 as p99,
           (max(extract(epoch from committed_at - created_at)) * 1000)::float8 as max
    from orders`;
  const count = row?.count ?? 0;
  const spanS = row?.span ?? 0;
  return { count, spanS, tps: spanS > 0 ? count / spanS : 0, p50Ms: row?.p50 ?? 0, p99Ms: row?.p99 ?? 0, maxMs: row?.max ?? 0 };
}

/** pids of the PostgreSQL backends serving the named databases (for CPU accounting), the harness's own left out. */
export async function backendPids(sql: Sql, databases: string[]): Promise<number[]> {
  if (databases.length === 0) return [];
  const rows = await sql<{ pid: number }[]>`
    select pid from pg_stat_activity where datname = any(${databases}) and application_name is distinct from ${HARNESS}`;
  return rows.map((r) => r.pid);
}

export { dropDatabase };

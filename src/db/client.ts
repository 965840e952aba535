import postgres from "postgres";
import { describe, ShopstreamError } from "../errors.ts";

export type Sql = postgres.Sql;

export interface ConnectOptions {
  max?: number;
  /** Name used in errors: which setting pointed us here. */
  variable?: string;
  /** The server cancels any statement running longer (statement_timeout); unset: no limit. */
  statementTimeoutMs?: number;
}

/**
 * A postgres.js pool. Notices are dropped (migrations emit "already exists" chatter). A new
 * connection that is not ready within 10 s fails (CONNECT_TIMEOUT), even against a server that
 * accepts the TCP connection and never answers; a query on an open connection has no such bound
 * (see src/db/bounded.ts).
 */
export function connect(url: string, opts: ConnectOptions = {}): Sql {
  return postgres(url, {
    max: opts.max ?? 4,
    onnotice: () => {},
    connect_timeout: 10,
    idle_timeout: 30,
    ...(opts.statementTimeoutMs === undefined ? {} : { connection: { statement_timeout: opts.statementTimeoutMs } }),
  });
}

/** Fails with one line naming the variable when the database does not answer. */
export async function assertReachable(sql: Sql, variable = "DATABASE_URL"): Promise<void> {
  try {
    await sql`select 1`;
  } catch (err) {
    throw new ShopstreamError(`${variable}: cannot reach PostgreSQL (${describe(err)})`, { cause: err, retriable: true });
  }
}

/** Creates the database named in `url` when it is missing (connecting to the server's `postgres` db). */
export async function ensureDatabase(url: string): Promise<boolean> {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.replace(/^\//, ""));
  if (!/^[A-Za-z0-9_]+$/.test(name)) throw new Error(`DATABASE_URL: unsupported database name "${name}"`);
  const admin = new URL(url);
  admin.pathname = "/postgres";
  const sql = connect(admin.toString(), { max: 1 });
  try {
    await assertReachable(sql);
    const [row] = await sql`select 1 as ok from pg_database where datname = ${name}`;
    if (row) return false;
    try {
      await sql.unsafe(`create database "${name}"`);
    } catch (err) {
      // a concurrent starter may have created it first
      if ((err as { code?: string }).code !== "42P04") throw err;
      return false;
    }
    return true;
  } finally {
    await sql.end();
  }
}

export async function dropDatabase(url: string): Promise<void> {
  const target = new URL(url);
  const name = decodeURIComponent(target.pathname.replace(/^\//, ""));
  target.pathname = "/postgres";
  const sql = connect(target.toString(), { max: 1 });
  try {
    await sql.unsafe(`drop database if exists "${name}" with (force)`);
  } finally {
    await sql.end();
  }
}

/** The cheapest round trip: the server answers (a health check). */
export async function ping(sql: Sql): Promise<void> {
  await sql`select 1`;
}

import { BoundedPool } from "./bounded.ts";
import { assertReachable, connect, ensureDatabase, type Sql } from "./client.ts";
import { migrate } from "./migrate.ts";

/** Database ready for a service: created if missing, reachable, migrated. */
export async function openDatabase(url: string, opts: { max?: number } = {}): Promise<Sql> {
  await ensureDatabase(url);
  const sql = connect(url, opts);
  await assertReachable(sql);
  await migrate(sql);
  return sql;
}

/**
 * What a long-running service holds (docs/design.md, "Faults"): the database made ready as
 * openDatabase does, without a deadline (a migration may take long), then a BoundedPool, so that
 * every later use fails within `timeoutMs` when the server hangs.
 */
export async function openBoundedDatabase(url: string, opts: { max: number; timeoutMs: number }): Promise<BoundedPool> {
  await (await openDatabase(url, { max: 1 })).end();
  return new BoundedPool(url, opts);
}

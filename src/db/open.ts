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

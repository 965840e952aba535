import { connect, dropDatabase, ensureDatabase, type Sql } from "../src/db/client.ts";
import { migrate } from "../src/db/migrate.ts";
import { ShopstreamError } from "../src/errors.ts";
import { retry } from "../src/retry.ts";

export const BASE_DATABASE_URL = process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

export function uniqueSuffix(): string {
  return `${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
}

export interface TestDatabase {
  url: string;
  sql: Sql;
  drop(): Promise<void>;
}

/** A fresh, migrated database of its own for one suite; drop() removes it. */
export async function createTestDatabase(label: string): Promise<TestDatabase> {
  const url = new URL(BASE_DATABASE_URL);
  url.pathname = `/shopstream_test_${label}_${uniqueSuffix()}`;
  // a set-up wait, not a check: on a loaded CI machine the shared server once took over 10 s to
  // answer a new connection (CONNECT_TIMEOUT); unreachable for a minute still fails the suite
  await retry(() => ensureDatabase(url.toString()), {
    attempts: 6,
    firstMs: 2000,
    maxMs: 10_000,
    retriable: (err) => err instanceof ShopstreamError && err.retriable,
  });
  const sql = connect(url.toString(), { max: 4 });
  await migrate(sql);
  return {
    url: url.toString(),
    sql,
    async drop() {
      await sql.end({ timeout: 5 });
      await dropDatabase(url.toString());
    },
  };
}

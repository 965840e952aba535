import { generateProducts, generateUsers } from "../domain/fake.ts";
import { Rng } from "../domain/random.ts";
import type { Sql } from "./client.ts";
import { copyRows } from "./copy.ts";
import { LOCKS } from "./locks.ts";
import { PRODUCTS, USERS, columnNames, rowValues } from "./tables.ts";

export interface SeedOptions {
  seed: string;
  users: number;
  products: number;
  /** The moment the catalogue is generated "at"; fixed by tests so the same seed gives identical rows. */
  now: Date;
}

export type SeedResult = { skipped: true; reason: string } | { skipped: false; users: number; products: number; ms: number };

const MARKER = "initial_seed";

/**
 * Creates the starting catalogue in one transaction (all or nothing) with COPY. Idempotent: the run
 * is recorded in shopstream_meta and a database that already holds users or products is left alone.
 */
export async function seedCatalogue(sql: Sql, opts: SeedOptions): Promise<SeedResult> {
  const started = performance.now();
  return sql.begin(async (tx) => {
    // serialise concurrent seeders (start:all and a manual `bun run seed`)
    await tx`select pg_advisory_xact_lock(${LOCKS.seed})`;
    const [marker] = await tx`select value from shopstream_meta where key = ${MARKER}`;
    if (marker) return { skipped: true, reason: `already seeded (${JSON.stringify(marker.value)})` } as const;
    const [{ users, products }] =
      (await tx`select (select count(*) from users)::int as users, (select count(*) from products)::int as products`) as unknown as [
        { users: number; products: number },
      ];
    if (users > 0 || products > 0)
      return { skipped: true, reason: `database already holds ${users} users and ${products} products` } as const;

    const rng = new Rng(opts.seed);
    const userRows = generateUsers(rng.fork("users"), opts.users, opts.now);
    const productRows = generateProducts(rng.fork("products"), opts.products, opts.now);
    // the Sql type of a transaction is compatible with copyRows' use of unsafe().writable()
    await copyRows(
      tx as unknown as Sql,
      USERS.name,
      columnNames(USERS),
      userRows.map((u) => rowValues(USERS, u)),
    );
    await copyRows(
      tx as unknown as Sql,
      PRODUCTS.name,
      columnNames(PRODUCTS),
      productRows.map((p) => rowValues(PRODUCTS, p)),
    );
    await tx`insert into shopstream_meta (key, value) values (${MARKER}, ${tx.json({ seed: opts.seed, users: opts.users, products: opts.products, at: opts.now.toISOString() })})`;
    return { skipped: false, users: userRows.length, products: productRows.length, ms: performance.now() - started } as const;
  });
}

import { ShopstreamError } from "../errors.ts";
import type { Sql } from "./client.ts";

// PostgreSQL advisory lock ids: one place, so no two jobs pick the same number by accident.
export const LOCKS = {
  /** Migrations: one migrator at a time, as nine services may start at once (transaction-scoped). */
  migrate: 72_016_001,
  /** The initial seed: one seeder at a time (transaction-scoped). */
  seed: 72_016_002,
  /** The historical year: one writer per database (session-scoped, held for the whole run). */
  historical: 72_016_003,
  /**
   * The live consumers' writes (shared, per transaction) against the historical year and its reset
   * (exclusive, for the whole run): neither overwrites nor truncates what the other writes.
   */
  liveWrites: 72_016_004,
} as const;

/** Why a live write waits: thrown inside the write's transaction, a transient failure (the consumer pauses and retries). */
export const HISTORICAL_RUNNING = "a historical run holds this database (bun run historical): live writes resume when it ends";

/** First statement of a live write's transaction: fails at once (transient) while a historical run holds the database. */
export async function claimLiveWrite(tx: Sql): Promise<void> {
  const [row] = await tx<{ ok: boolean }[]>`select pg_try_advisory_xact_lock_shared(${LOCKS.liveWrites}) as ok`;
  if (row?.ok !== true) throw new ShopstreamError(HISTORICAL_RUNNING, { retriable: true });
}

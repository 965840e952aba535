import { ShopstreamError } from "../errors.ts";
import { sleep } from "../retry.ts";
import type { Sql } from "./client.ts";

// What CDC needs of PostgreSQL (docs/connect.md): logical WAL, and a replication slot watched and
// dropped when the connector goes (a slot nobody reads holds every WAL segment since).

/** The server's wal_level is not `logical`: what to set, in one line. */
export class WalLevelNotLogical extends ShopstreamError {}

export async function requireLogicalWal(sql: Sql, where: string): Promise<void> {
  const [row] = await sql<{ wal_level: string }[]>`show wal_level`;
  if (row?.wal_level === "logical") return;
  throw new WalLevelNotLogical(
    `CDC needs wal_level=logical, and PostgreSQL at ${where} has wal_level=${row?.wal_level}: run \`ALTER SYSTEM SET wal_level = logical\` and restart PostgreSQL (deploy/docker-compose.yml's postgres has it)`,
  );
}

export interface SlotState {
  active: boolean;
  /** WAL the server keeps for the slot: from its restart point to the current WAL position. */
  retainedBytes: number;
}

/** The slot's state, or null when there is no such slot. */
export async function slotState(sql: Sql, slot: string): Promise<SlotState | null> {
  const [row] = await sql<{ active: boolean; retained: string | null }[]>`
    select active, pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)::bigint::text as retained
    from pg_replication_slots where slot_name = ${slot}`;
  return row ? { active: row.active, retainedBytes: Number(row.retained ?? 0) } : null;
}

/** How long a slot still in use is waited for before its reader is ended, and before dropping gives up. */
const READER_WAIT_MS = 10_000;
const DROP_WITHIN_MS = 30_000;

/**
 * Drops the slot and the publication; a slot still in use (its reader not gone yet) is waited for
 * up to 10 s, then its reader is ended; a reader that comes back in between is waited out again,
 * for 30 s in all. True when the slot existed.
 */
export async function dropSlot(sql: Sql, slot: string, publication: string): Promise<boolean> {
  await sql.unsafe(`drop publication if exists "${publication.replace(/"/g, '""')}"`);
  const started = Date.now();
  for (;;) {
    const [row] = await sql<{ active_pid: number | null }[]>`select active_pid from pg_replication_slots where slot_name = ${slot}`;
    if (!row) return false;
    if (row.active_pid === null) {
      try {
        await sql`select pg_drop_replication_slot(${slot})`;
        return true;
      } catch (err) {
        // 55006: a reader took the slot since it was looked at; 42704: someone else dropped it
        const code = (err as { code?: string }).code;
        if (code === "42704") return true;
        if (code !== "55006") throw err;
      }
    } else if (Date.now() - started > READER_WAIT_MS) {
      await sql`select pg_terminate_backend(${row.active_pid})`;
    }
    if (Date.now() - started > DROP_WITHIN_MS)
      throw new ShopstreamError(
        `replication slot ${slot} is still in use after ${DROP_WITHIN_MS / 1000} s; stop its reader and drop it again`,
      );
    await sleep(500);
  }
}

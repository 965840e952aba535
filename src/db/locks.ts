// PostgreSQL advisory lock ids: one place, so no two jobs pick the same number by accident.
export const LOCKS = {
  /** Migrations: one migrator at a time, as nine services may start at once (transaction-scoped). */
  migrate: 72_016_001,
  /** The initial seed: one seeder at a time (transaction-scoped). */
  seed: 72_016_002,
  /** The historical year: one writer per database (session-scoped, held for the whole run). */
  historical: 72_016_003,
} as const;

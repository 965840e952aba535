// The year's second connection: at every checkpoint, once that week's orders are committed, the
// grade changes the generator worked out in its in-memory window are written as the live updater
// writes its own (users + grade_history at the simulated time). Every few checkpoints, and at the
// last, the updater's own statement is run read-only at that instant (gradeDrift): every user's
// stored grade must be the rule's, so a wrong in-memory window cannot pass unnoticed. Where it
// differs, the updater's statement itself then repairs the grades in the database (with their
// grade_history rows); the generator's window is left alone so the run stays deterministic. It runs
// while the next week is being written.
import type { Sql } from "../db/client.ts";
import { applyGradeChanges, gradeDrift, recomputeGrades } from "../db/grades.ts";
import { analyze, bulkSession, monthsBefore } from "../db/historical.ts";
import { GRADE_WINDOW_MONTHS } from "../domain/grades.ts";
import type { GradeChange } from "./generator.ts";

/** The SQL check runs at every 4th checkpoint (every four simulated weeks) and at the last one. */
export const VERIFY_EVERY = 4;

export class GradeLane {
  runs = 0;
  changes = 0;
  /** Checkpoints checked against the updater's SQL. */
  checks = 0;
  /** Users whose grade differed from the updater's SQL, summed over the checked checkpoints (each then repaired). */
  mismatches = 0;
  private chain: Promise<void> = Promise.resolve();
  private failure: unknown = null;
  private analyzedAt = 0;

  private constructor(
    private readonly sql: Sql,
    private readonly log: (msg: string) => void,
  ) {}

  /**
   * The lane shares two cores with the COPY and Bun: no parallel workers (they would only take
   * cores from the COPY), no JIT (its compile time exceeds what it saves here), and enough memory
   * to hash a half-year window.
   */
  static async open(sql: Sql, log: (msg: string) => void): Promise<GradeLane> {
    await bulkSession(sql, { sorting: "memory, serial" });
    return new GradeLane(sql, log);
  }

  /** Each checkpoint's window start exactly as the grade SQL computes it (timestamptz − interval, session time zone). */
  windowStarts(checkpoints: readonly Date[]): Promise<number[]> {
    return monthsBefore(this.sql, checkpoints, GRADE_WINDOW_MONTHS);
  }

  /** Queues the week's changes at `at`, checked against the SQL when `verify`; call once the orders up to `at` are committed. */
  queue(at: Date, changes: readonly GradeChange[], ordersWritten: number, verify: boolean): void {
    this.chain = this.chain
      .then(async () => {
        const run = await applyGradeChanges(this.sql, at, changes, "historical");
        this.runs++;
        this.changes += run.changed;
        if (!verify) return;
        await this.housekeeping(ordersWritten);
        const drift = await gradeDrift(this.sql, at);
        this.checks++;
        if (drift === 0) return;
        this.mismatches += drift;
        const repair = await recomputeGrades(this.sql, at, "historical");
        this.log(
          `grades at ${at.toISOString()}: ${drift} user(s) held a grade other than the updater's SQL gives them; ${repair.changed} repaired by it`,
        );
      })
      .catch((err) => {
        this.failure ??= err;
      });
  }

  /**
   * orders grows from nothing to a million rows in a minute, faster than autovacuum analyzes it
   * (when it runs at all): planned for a tiny table, the grade query sorts and spills to disk.
   * Statistics at the first checkpoint, then whenever orders has grown fourfold, are enough.
   */
  private async housekeeping(ordersWritten: number): Promise<void> {
    if (ordersWritten < 4 * this.analyzedAt) return;
    await analyze(this.sql, this.analyzedAt === 0 ? "users and orders" : "orders");
    this.analyzedAt = Math.max(1, ordersWritten);
  }

  throwIfFailed(): void {
    if (this.failure) throw this.failure;
  }

  /** Waits for every queued recompute. */
  async drain(): Promise<void> {
    await this.chain;
    this.throwIfFailed();
  }
}

// The year's second connection: at every checkpoint, once that week's orders are committed,
// recomputeGrades (the live updater's own SQL) at the simulated time, then a comparison with the
// grades the generator already computed in memory. It runs while the next week is being written.
import type { Sql } from "../db/client.ts";
import { recomputeGrades } from "../db/grades.ts";
import { GRADE_WINDOW_MONTHS } from "../domain/grades.ts";
import type { Grade } from "../domain/types.ts";
import type { GradeChange } from "./generator.ts";

export class GradeLane {
  runs = 0;
  changes = 0;
  /** Users on whom the in-memory window and recomputeGrades disagreed, summed over checkpoints. */
  mismatches = 0;
  private chain: Promise<void> = Promise.resolve();
  private failure: unknown = null;
  private analyzedAt = 0;

  private constructor(private readonly sql: Sql, private readonly log: (msg: string) => void) {}

  /**
   * The lane shares two cores with the COPY and Bun: no parallel workers (they would only take
   * cores from the COPY), no JIT (its compile time exceeds what it saves here), and enough memory
   * to hash a half-year window.
   */
  static async open(sql: Sql, log: (msg: string) => void): Promise<GradeLane> {
    await sql`select set_config('synchronous_commit', 'off', false), set_config('work_mem', '64MB', false),
                     set_config('max_parallel_workers_per_gather', '0', false), set_config('jit', 'off', false)`;
    return new GradeLane(sql, log);
  }

  /** Each checkpoint's window start exactly as recomputeGrades computes it (timestamptz − interval, session time zone). */
  async windowStarts(checkpoints: readonly Date[]): Promise<number[]> {
    const rows = await this.sql`
      select t - ${GRADE_WINDOW_MONTHS} * interval '1 month' as bound
      from unnest(${this.sql.array(checkpoints.map((d) => d.toISOString()))}::timestamptz[]) with ordinality as x(t, i) order by i`;
    return rows.map((r) => (r.bound as Date).getTime());
  }

  /** Queues the recompute at `at`; call once the orders up to `at` are committed. */
  queue(at: Date, expected: readonly GradeChange[], ordersWritten: number): void {
    this.chain = this.chain.then(async () => {
      await this.housekeeping(ordersWritten);
      const run = await recomputeGrades(this.sql, at, "historical");
      const mismatches = await this.compare(at, expected);
      if (mismatches > 0) this.log(`grades at ${at.toISOString()}: ${mismatches} user(s) differ between the in-memory window and recomputeGrades`);
      this.runs++;
      this.changes += run.changed;
      this.mismatches += mismatches;
    }).catch((err) => { this.failure ??= err; });
  }

  /**
   * orders grows from nothing to a million rows in a minute, faster than autovacuum analyzes it
   * (when it runs at all): planned for a tiny table, the grade query sorts and spills to disk.
   * Statistics at the first checkpoint, then whenever orders has grown fourfold, are enough.
   */
  private async housekeeping(ordersWritten: number): Promise<void> {
    if (ordersWritten < 4 * this.analyzedAt) return;
    if (this.analyzedAt === 0) await this.sql`analyze users`;
    await this.sql`analyze orders`;
    this.analyzedAt = Math.max(1, ordersWritten);
  }

  /**
   * How many users' changes differ between the window's prediction and what recomputeGrades wrote:
   * one digest from each side, the rows themselves only when the digests differ.
   */
  private async compare(at: Date, expected: readonly GradeChange[]): Promise<number> {
    const [row] = await this.sql<{ digest: string }[]>`
      select md5(coalesce(string_agg(user_id || ':' || new_grade, ',' order by user_id collate "C"), '')) as digest
      from grade_history where reason = 'historical' and changed_at = ${at}`;
    // ids are ASCII: code-unit order is the C collation's byte order
    const mine = [...expected].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)).map((c) => `${c.id}:${c.to}`).join(",");
    if (row?.digest === new Bun.CryptoHasher("md5").update(mine).digest("hex")) return 0;
    const recorded = await this.sql<{ user_id: string; new_grade: Grade }[]>`
      select user_id, new_grade from grade_history where reason = 'historical' and changed_at = ${at}`;
    return compareChanges(expected, recorded);
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

/** Users whose change differs between what the window predicted and what recomputeGrades wrote. */
function compareChanges(expected: readonly GradeChange[], written: readonly { user_id: string; new_grade: Grade }[]): number {
  const want = new Map(expected.map((c) => [c.id, c.to]));
  let differ = 0;
  for (const w of written) {
    if (want.get(w.user_id) !== w.new_grade) differ++;
    want.delete(w.user_id);
  }
  return differ + want.size;
}

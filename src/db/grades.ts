import { GRADE_RULES, GRADE_WINDOW_MONTHS } from "../domain/grades.ts";
import type { Grade } from "../domain/types.ts";
import type { Sql } from "./client.ts";

// The grade rule (docs/design.md) as one set-based statement: per-user PAID totals over the trailing
// window, the rule as a CASE built from the same GRADE_RULES the domain uses, users updated only
// where the grade changes, and a grade_history row for each of those. The live updater calls it at
// now(); the historical year writes the changes of its in-memory window and checks them against
// the same statement (gradeDrift).

const gradeCase = [
  "case",
  ...GRADE_RULES.map((r) => `when s.amount >= ${r.minAmount} and s.orders >= ${r.minOrders} then '${r.grade}'`),
  "else 'BRONZE' end",
].join(" ");

export interface GradeRun {
  changed: number;
  /** How many users moved into each grade in this run. */
  changedTo: Partial<Record<Grade, number>>;
}

/** Every user's stored grade beside the rule's grade at $1 (the statement's shared head). */
const TARGETS = `with window_totals as (
       select user_id, sum(total_amount) as amount, count(*) as orders
       from orders
       where status = 'PAID' and created_at > $1::timestamptz - interval '${GRADE_WINDOW_MONTHS} months' and created_at <= $1::timestamptz
       group by user_id
     ),
     target as (
       select s.id, s.old_grade, ${gradeCase} as new_grade
       from (
         select u.id, u.grade as old_grade, coalesce(w.amount, 0) as amount, coalesce(w.orders, 0) as orders
         from users u left join window_totals w on w.user_id = u.id
       ) s
     )`;

export async function recomputeGrades(sql: Sql, asOf: Date, reason: "batch" | "historical"): Promise<GradeRun> {
  const rows = await sql.unsafe<{ new_grade: Grade; n: number }[]>(
    `${TARGETS},
     changed as (
       update users u set grade = t.new_grade, updated_at = now()
       from target t
       where u.id = t.id and u.grade <> t.new_grade
       returning u.id, t.old_grade, t.new_grade
     ),
     history as (
       insert into grade_history (user_id, old_grade, new_grade, changed_at, reason)
       select id, old_grade, new_grade, $1::timestamptz, $2 from changed
     )
     select new_grade, count(*)::int as n from changed group by new_grade`,
    [asOf.toISOString(), reason],
  );
  return tally(rows);
}

/**
 * How many users' stored grade differs from what recomputeGrades would give them at `asOf`: the
 * same statement, read only. 0 means the grades on record are exactly the rule's.
 */
export async function gradeDrift(sql: Sql, asOf: Date): Promise<number> {
  const [row] = await sql.unsafe<{ n: number }[]>(`${TARGETS} select count(*)::int as n from target where old_grade <> new_grade`, [
    asOf.toISOString(),
  ]);
  return row?.n ?? 0;
}

/**
 * Writes grade changes worked out elsewhere (the historical year's in-memory window) as
 * recomputeGrades writes its own: users updated where the grade differs, one grade_history row each.
 */
export async function applyGradeChanges(
  sql: Sql,
  asOf: Date,
  changes: readonly { id: string; to: Grade }[],
  reason: "historical",
): Promise<GradeRun> {
  if (changes.length === 0) return { changed: 0, changedTo: {} };
  const rows = await sql<{ new_grade: Grade; n: number }[]>`
    with wanted as (
      select c.id, u.grade as old_grade, c.new_grade
      from unnest(${sql.array(changes.map((c) => c.id))}::text[], ${sql.array(changes.map((c) => c.to))}::text[]) as c(id, new_grade)
      join users u on u.id = c.id
      where u.grade <> c.new_grade
    ),
    changed as (
      update users u set grade = w.new_grade, updated_at = now()
      from wanted w where u.id = w.id
      returning u.id, w.old_grade, w.new_grade
    ),
    history as (
      insert into grade_history (user_id, old_grade, new_grade, changed_at, reason)
      select id, old_grade, new_grade, ${asOf}, ${reason} from changed
    )
    select new_grade, count(*)::int as n from changed group by new_grade`;
  return tally(rows);
}

function tally(rows: readonly { new_grade: Grade; n: number }[]): GradeRun {
  const changedTo: GradeRun["changedTo"] = {};
  let changed = 0;
  for (const r of rows) {
    changedTo[r.new_grade] = r.n;
    changed += r.n;
  }
  return { changed, changedTo };
}

export async function gradeDistribution(sql: Sql): Promise<Record<Grade, number>> {
  const rows = await sql<{ grade: Grade; n: number }[]>`select grade, count(*)::int as n from users group by grade`;
  const dist: Record<Grade, number> = { BRONZE: 0, SILVER: 0, GOLD: 0, VIP: 0 };
  for (const r of rows) dist[r.grade] = r.n;
  return dist;
}

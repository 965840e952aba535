import { GRADE_RULES, GRADE_WINDOW_MONTHS } from "../domain/grades.ts";
import type { Grade } from "../domain/types.ts";
import type { Sql } from "./client.ts";

// SPEC 6 as one set-based statement: per-user PAID totals over the trailing window, the grade rule
// as a CASE built from the same GRADE_RULES the domain uses, users updated only where the grade
// changes, and a grade_history row for each of those. The live updater and the historical year
// both call this, at now() and at the simulated time respectively.

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

export async function recomputeGrades(sql: Sql, asOf: Date, reason: "batch" | "historical"): Promise<GradeRun> {
  const rows = await sql.unsafe<{ new_grade: Grade; n: number }[]>(
    `with window_totals as (
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
     ),
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

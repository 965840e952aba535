import { GRADE_RULES, GRADE_WINDOW_MONTHS } from "../domain/grades.ts";
import { COUNTED_STATUSES } from "../domain/order-status.ts";
import type { Grade } from "../domain/types.ts";
import type { Sql } from "./client.ts";

// The grade rule (docs/design.md, "Grades") as one set-based statement: per-user totals of the
// orders that count (COUNTED_STATUSES: not cancelled, not refunded) over the trailing window, the
// rule as a CASE built from the same GRADE_RULES the domain uses, users updated only where the
// grade changes, and a grade_history row for each of those with the window that decided it. The live updater calls it at
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

const COUNTED = `status in (${COUNTED_STATUSES.map((s) => `'${s}'`).join(", ")})`;
/** A user's window as the rule sees it: the orders that count, and those it leaves out (cancelled, refunded). */
const WINDOW_STATS = `coalesce(sum(total_amount) filter (where ${COUNTED}), 0) as amount,
       count(*) filter (where ${COUNTED}) as orders, count(*) filter (where not ${COUNTED}) as excluded`;

/**
 * Where the grade window starts: GRADE_WINDOW_MONTHS before $1, or on a simulated clock
 * (src/cache/shop-clock.ts) after the `windowOrders` latest orders up to $1 — six simulated months
 * are so many orders, however fast they were actually written.
 */
function windowStart(windowOrders?: number): string {
  if (windowOrders === undefined) return `$1::timestamptz - interval '${GRADE_WINDOW_MONTHS} months'`;
  const n = Math.max(0, Math.round(windowOrders));
  return `coalesce((select created_at from orders where created_at <= $1::timestamptz order by created_at desc offset ${n} limit 1), '-infinity')`;
}

/** Every user's stored grade beside the rule's grade at $1 (the statement's shared head). */
const targets = (windowOrders?: number) => `with window_totals as (
       select user_id, ${WINDOW_STATS} from orders
       where created_at > ${windowStart(windowOrders)} and created_at <= $1::timestamptz
       group by user_id
     ),
     target as (
       select s.*, ${gradeCase} as new_grade
       from (
         select u.id, u.grade as old_grade, coalesce(w.amount, 0) as amount, coalesce(w.orders, 0) as orders,
                coalesce(w.excluded, 0) as excluded
         from users u left join window_totals w on w.user_id = u.id
       ) s
     )`;

/** Each grade change is recorded with the window that decided it (why a customer went up or down). */
const HISTORY_COLUMNS = "user_id, old_grade, new_grade, changed_at, reason, window_amount, window_orders, excluded_orders";

/** The rule at `asOf` over the window before it (GRADE_WINDOW_MONTHS, or the `windowOrders` latest orders on a simulated clock). */
export async function recomputeGrades(sql: Sql, asOf: Date, reason: "batch" | "historical", windowOrders?: number): Promise<GradeRun> {
  const rows = await sql.unsafe<{ new_grade: Grade; n: number }[]>(
    `${targets(windowOrders)},
     changed as (
       update users u set grade = t.new_grade, updated_at = now()
       from target t
       where u.id = t.id and u.grade <> t.new_grade
       returning u.id, t.old_grade, t.new_grade, t.amount, t.orders, t.excluded
     ),
     history as (
       insert into grade_history (${HISTORY_COLUMNS})
       select id, old_grade, new_grade, $1::timestamptz, $2, amount, orders, excluded from changed
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
  const [row] = await sql.unsafe<{ n: number }[]>(`${targets()} select count(*)::int as n from target where old_grade <> new_grade`, [
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
  const asOfIso = asOf.toISOString();
  const rows = await sql<{ new_grade: Grade; n: number }[]>`
    with wanted as (
      select c.id, u.grade as old_grade, c.new_grade
      from unnest(${sql.array(changes.map((c) => c.id))}::text[], ${sql.array(changes.map((c) => c.to))}::text[]) as c(id, new_grade)
      join users u on u.id = c.id
      where u.grade <> c.new_grade
    ),
    stats as (
      select user_id, ${sql.unsafe(WINDOW_STATS)} from orders
      where user_id in (select id from wanted)
        and created_at > ${asOfIso}::timestamptz - ${sql.unsafe(`interval '${GRADE_WINDOW_MONTHS} months'`)}
        and created_at <= ${asOfIso}::timestamptz
      group by user_id
    ),
    changed as (
      update users u set grade = w.new_grade, updated_at = now()
      from wanted w where u.id = w.id
      returning u.id, w.old_grade, w.new_grade
    ),
    history as (
      insert into grade_history (${sql.unsafe(HISTORY_COLUMNS)})
      select c.id, c.old_grade, c.new_grade, ${asOfIso}::timestamptz, ${reason}, coalesce(s.amount, 0), coalesce(s.orders, 0),
             coalesce(s.excluded, 0)
      from changed c left join stats s on s.user_id = c.id
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

import type { Sql } from "../../src/db/client.ts";

/**
 * Every user's grade by the membership rule at `at` (orders neither cancelled nor refunded, trailing
 * 6 months), written here independently of src/db/grades.ts
 * (thresholds spelled out, a plain join): what the tests hold the pipeline's grades against.
 */
export async function gradesByRule(sql: Sql, at: Date): Promise<Map<string, string>> {
  const rows = await sql<{ id: string; grade: string }[]>`
    select u.id,
      case when coalesce(sum(o.total_amount), 0) >= 3000000 and count(o.id) >= 15 then 'VIP'
           when coalesce(sum(o.total_amount), 0) >= 1000000 and count(o.id) >= 8 then 'GOLD'
           when coalesce(sum(o.total_amount), 0) >= 300000 and count(o.id) >= 3 then 'SILVER'
           else 'BRONZE' end as grade
    from users u
    left join orders o on o.user_id = u.id and o.status not in ('CANCELLED', 'REFUNDED')
      and o.created_at > ${at}::timestamptz - interval '6 months' and o.created_at <= ${at}::timestamptz
    group by u.id`;
  return new Map(rows.map((r) => [r.id, r.grade]));
}

/** Ids whose grade in `actual` differs from the rule's, with both grades. */
export function gradeDifferences(
  actual: ReadonlyMap<string, string>,
  rule: ReadonlyMap<string, string>,
): [string, string | undefined, string][] {
  return [...rule].filter(([id, grade]) => actual.get(id) !== grade).map(([id, grade]) => [id, actual.get(id), grade]);
}

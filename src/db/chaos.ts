import type { Injection, SinkRows } from "../domain/chaos.ts";
import type { Sql } from "./client.ts";

// The answer key in PostgreSQL (chaos_injections, migration 009) and what a sink table holds of
// the injected ids, for `bun run chaos-score` (docs/design.md, "Chaos").

/** Lands answer key lines; a line landed before is left as it is. Returns how many were new. */
export async function landInjections(sql: Sql, lines: readonly (Injection & { at: string; detail?: unknown })[]): Promise<number> {
  let added = 0;
  for (let i = 0; i < lines.length; i += 5000) {
    const part = lines.slice(i, i + 5000);
    const rows = await sql`
      insert into chaos_injections (topic, kafka_partition, kafka_offset, event_id, kind, injected_at, detail)
      select t, p, o, e, k, a, d::jsonb from unnest(
        ${part.map((l) => l.topic)}::text[], ${part.map((l) => l.partition)}::int[], ${part.map((l) => l.offset)}::bigint[],
        ${part.map((l) => l.event_id)}::text[], ${part.map((l) => l.kind)}::text[], ${part.map((l) => l.at)}::timestamptz[],
        -- as text, parsed here: a jsonb[] parameter would hold each object as a JSON string
        ${part.map((l) => (l.detail === undefined ? null : JSON.stringify(l.detail)))}::text[]) as u(t, p, o, e, k, a, d)
      on conflict do nothing
      returning 1`;
    added += rows.length;
  }
  return added;
}

/**
 * Rows a sink table holds for each of `ids`: how many, and the earliest `timeColumn` (null when
 * the table has no such column). Any table with an id column will do: shopstream's own, or a
 * user's pipeline's.
 */
export function sinkRows(
  sql: Sql,
  table: string,
  ids: readonly string[],
  opts: { idColumn: string; timeColumn: string | null },
): Promise<Map<string, SinkRows>> {
  const id = sql(opts.idColumn);
  return rowsById(ids, (part) => {
    const time = opts.timeColumn ? sql`min(${sql(opts.timeColumn)})` : sql`null::timestamptz`;
    return sql<IdRows[]>`
      select ${id}::text as id, count(*)::int as n, ${time} as t
      from ${sql(table)} where ${id}::text = any(${part}::text[])
      group by 1`;
  });
}

/** The same for lifecycle steps (`<order id>:<status>`): shopstream's order_events, one row per step reached, at the step's own time. */
export function stepRows(sql: Sql, ids: readonly string[]): Promise<Map<string, SinkRows>> {
  return rowsById(
    ids,
    (part) => sql<IdRows[]>`
      select order_id || ':' || to_status as id, count(*)::int as n, min(at) as t
      from order_events where order_id || ':' || to_status = any(${part}::text[])
      group by 1`,
  );
}

interface IdRows {
  id: string;
  n: number;
  t: Date | null;
}

/** `query` over the ids 5,000 at a time, gathered by id. */
async function rowsById(ids: readonly string[], query: (part: string[]) => Promise<IdRows[]>): Promise<Map<string, SinkRows>> {
  const out = new Map<string, SinkRows>();
  for (let i = 0; i < ids.length; i += 5000) for (const r of await query(ids.slice(i, i + 5000))) out.set(r.id, { rows: r.n, time: r.t });
  return out;
}

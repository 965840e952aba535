-- The answer key of injected chaos (docs/design.md, "Chaos"), landed from the chaos.key topic by
-- `bun run chaos-score`: one row per injected record, where it landed and what was done to it.
create table if not exists chaos_injections (
  topic text not null,
  kafka_partition integer not null,
  kafka_offset bigint not null,
  event_id text not null,
  kind text not null check (kind in ('duplicate', 'late', 'out_of_order', 'nulls', 'drift', 'poison', 'early')),
  injected_at timestamptz not null,
  detail jsonb,
  primary key (topic, kafka_partition, kafka_offset)
);
create index if not exists chaos_injections_kind on chaos_injections (kind, event_id);

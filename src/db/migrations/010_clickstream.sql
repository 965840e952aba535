-- The clickstream (docs/design.md, "Clickstream"): every page event of the clicks topic, and its
-- session folded from them as they land (events, first and last time, how far down the funnel).
-- No foreign keys: an anonymous visitor has no user, a new customer's user record and a purchase's
-- order travel on other topics and may land after the click.
create table if not exists click_events (
  id text primary key,
  session_id text not null,
  seq smallint not null,
  type text not null,
  at timestamptz not null,
  user_id text,
  device text not null,
  channel text not null,
  region text,
  page text not null,
  category text,
  product_id text,
  query text,
  order_id text,
  source text not null default 'live' check (source in ('live', 'historical'))
);
create index if not exists click_events_session on click_events (session_id);
create index if not exists click_events_at on click_events (at);

create table if not exists sessions (
  id text primary key,
  user_id text,
  device text not null,
  channel text not null,
  region text,
  -- the category the session landed in (its session_start's)
  category text,
  started_at timestamptz not null,
  ended_at timestamptz not null,
  events integer not null,
  -- how far it went: 0 landed, 1 viewed a product, 2 added to the cart, 3 checked out, 4 bought
  reached smallint not null,
  order_id text,
  source text not null default 'live' check (source in ('live', 'historical'))
);
create index if not exists sessions_started_at on sessions (started_at);
create unique index if not exists sessions_order on sessions (order_id) where order_id is not null;

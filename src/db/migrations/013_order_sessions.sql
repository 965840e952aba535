-- The session an order was placed in, carried from version 3 of the order schema on (docs/design.md,
-- "Schemas"; with --clicks, live and in the historical year): null for orders without a session.
-- sessions.order_id links the other way. flink_orders keeps the shape of orders (docs/flink.md).
alter table orders add column if not exists session_id text;
alter table flink_orders add column if not exists session_id text;

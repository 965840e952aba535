-- Written by the Flink jobs (docs/flink.md), never by the pipeline itself.
-- flink_orders: the orders topic as the Flink job lands it, in the shape of orders, beside it (the
-- job's upsert must not meet the pipeline's own rows: it would undo their lifecycle steps).
CREATE TABLE flink_orders (LIKE orders INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING INDEXES);
-- revenue per category per minute of order time, upserted when the minute's window closes
CREATE TABLE category_revenue_minute (
  minute   timestamptz NOT NULL,
  category text NOT NULL,
  orders   bigint NOT NULL,
  revenue  bigint NOT NULL,
  PRIMARY KEY (minute, category)
);

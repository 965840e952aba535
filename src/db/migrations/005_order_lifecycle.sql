-- The order lifecycle (docs/design.md, "Order lifecycle"): PAID → SHIPPED → DELIVERED, PAID →
-- CANCELLED, DELIVERED → REFUNDED. Each order keeps when it reached each status and its next
-- planned step (what the lifecycle service emits when it falls due); order_events keeps one row per
-- transition, a clean change history for CDC users.
ALTER TABLE orders DROP CONSTRAINT IF EXISTS orders_status_check;
ALTER TABLE orders ADD CONSTRAINT orders_status_check
  CHECK (status IN ('PAID', 'SHIPPED', 'DELIVERED', 'CANCELLED', 'REFUNDED'));
ALTER TABLE orders
  ADD COLUMN shipped_at timestamptz,
  ADD COLUMN delivered_at timestamptz,
  ADD COLUMN cancelled_at timestamptz,
  ADD COLUMN refunded_at timestamptz,
  ADD COLUMN next_status text CHECK (next_status IN ('SHIPPED', 'DELIVERED', 'CANCELLED', 'REFUNDED')),
  ADD COLUMN next_status_at timestamptz;
-- the lifecycle service's question, "which steps are due?", without scanning the orders
CREATE INDEX orders_next_status_at_idx ON orders (next_status_at) WHERE next_status IS NOT NULL;

CREATE TABLE order_events (
  order_id         text NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
  from_status      text NOT NULL,
  to_status        text NOT NULL CHECK (to_status IN ('SHIPPED', 'DELIVERED', 'CANCELLED', 'REFUNDED')),
  at               timestamptz NOT NULL,
  reason           text NOT NULL,
  -- 'live' (applied from Kafka, with the record's partition and offset) or 'historical'
  source           text NOT NULL DEFAULT 'live' CHECK (source IN ('live', 'historical')),
  source_partition integer,
  source_offset    bigint,
  recorded_at      timestamptz NOT NULL DEFAULT now(),
  -- an order reaches a status once: a redelivered event is a no-op
  PRIMARY KEY (order_id, to_status)
);
CREATE INDEX order_events_at_idx ON order_events (at);

-- why a grade changed: the window the rule saw (the orders that count, and the cancelled or
-- refunded ones it left out); empty for changes recorded before the lifecycle
ALTER TABLE grade_history
  ADD COLUMN window_amount bigint,
  ADD COLUMN window_orders integer,
  ADD COLUMN excluded_orders integer;

-- Records the orders consumers read before what they reference was stored (an order whose user or
-- product has not arrived, a lifecycle step before its order). They wait here, not in the batch
-- that read them, so their neighbours are stored and the partition's offsets move on; a record
-- read later about the same subject waits behind them (docs/design.md, "Faults"). The raw key and
-- value are kept as read: what is given up on becomes the same faithful dead letter as any other.
CREATE TABLE IF NOT EXISTS parked_records (
  topic      text        NOT NULL,
  partition  int         NOT NULL,
  "offset"   bigint      NOT NULL,
  subject    text        NOT NULL,
  key        bytea,
  value      bytea,
  -- the record's headers in order, as [key, value in base64 or null] pairs; null when it had none
  headers    jsonb,
  reason     text        NOT NULL,
  attempts   int         NOT NULL DEFAULT 1,
  parked_at  timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL,
  PRIMARY KEY (topic, partition, "offset")
);
CREATE INDEX IF NOT EXISTS parked_records_subject_idx ON parked_records (topic, subject);

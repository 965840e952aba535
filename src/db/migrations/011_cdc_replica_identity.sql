-- CDC (docs/connect.md): an update or delete of these tables carries the whole old row in the WAL,
-- so that Debezium's change events have their `before` (an order's status from, a user's old grade).
-- Only a server with wal_level=logical writes it: without CDC nothing changes.
ALTER TABLE orders REPLICA IDENTITY FULL;
ALTER TABLE users REPLICA IDENTITY FULL;
ALTER TABLE products REPLICA IDENTITY FULL;

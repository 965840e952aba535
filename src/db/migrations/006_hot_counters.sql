-- The orders consumers advance users.last_ordered_at and products.order_count with every batch. While
-- those columns were indexed, each such update wrote a new row version into every index of the
-- table; unindexed, with room left on each page, PostgreSQL updates the row in place on its page
-- (a HOT update) and touches no index (docs/design.md, "Write path"). The split load that read
-- these indexes runs once per CACHE_REFRESH_S, where a scan and a top-N sort cost milliseconds.
-- fillfactor applies to pages written from now on: a database seeded before this migration gains
-- the room as its pages are rewritten (VACUUM FULL users, products does it at once).
DROP INDEX IF EXISTS users_last_ordered_at_idx;
DROP INDEX IF EXISTS users_never_ordered_idx;
DROP INDEX IF EXISTS products_order_count_idx;
ALTER TABLE users SET (fillfactor = 80);
ALTER TABLE products SET (fillfactor = 80);

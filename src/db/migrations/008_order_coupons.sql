-- The coupon behind an order's discount, carried from version 2 of the order schema on (docs/design.md,
-- "Schemas"): null for orders written under version 1, for those without a discount, and for the
-- historical year.
alter table orders add column if not exists coupon_code text;

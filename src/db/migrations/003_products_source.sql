-- Products a historical run lists to grow the catalogue with --scale are marked like its users and
-- orders, so `historical --reset` takes them away again without touching the live catalogue.
ALTER TABLE products ADD COLUMN source text NOT NULL DEFAULT 'live' CHECK (source IN ('live', 'historical'));

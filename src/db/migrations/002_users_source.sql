-- Users signed up by the historical generator inside its simulated period are marked like its
-- orders, so `historical --reset` can take them away again without touching anyone else.
ALTER TABLE users ADD COLUMN source text NOT NULL DEFAULT 'live' CHECK (source IN ('live', 'historical'));

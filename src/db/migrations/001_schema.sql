-- shopstream schema v1 (docs/design.md, "Data model"). Ids are text, assigned where the entity is born, so a redelivered
-- message upserts the same row. Money is integer KRW.

CREATE TABLE users (
  id               text PRIMARY KEY,
  name             text NOT NULL,
  gender           char(1) NOT NULL CHECK (gender IN ('M', 'F')),
  age              smallint NOT NULL CHECK (age BETWEEN 0 AND 130),
  birth_year       smallint NOT NULL,
  address          text NOT NULL,
  region           text NOT NULL,
  email            text NOT NULL,
  grade            text NOT NULL DEFAULT 'BRONZE' CHECK (grade IN ('BRONZE', 'SILVER', 'GOLD', 'VIP')),
  status           text NOT NULL DEFAULT 'ACTIVE' CHECK (status IN ('ACTIVE', 'DORMANT')),
  marketing_opt_in boolean NOT NULL DEFAULT false,
  last_login_at    timestamptz,
  created_at       timestamptz NOT NULL,
  last_ordered_at  timestamptz,
  updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX users_region_idx ON users (region);
-- split load: buyers by longest-since-last-order, non-buyers by newest sign-up
CREATE INDEX users_last_ordered_at_idx ON users (last_ordered_at);
CREATE INDEX users_never_ordered_idx ON users (created_at DESC) WHERE last_ordered_at IS NULL;

CREATE TABLE products (
  id             text PRIMARY KEY,
  name           text NOT NULL,
  category       text NOT NULL,
  brand          text NOT NULL,
  original_price integer NOT NULL CHECK (original_price >= 0),
  price          integer NOT NULL CHECK (price >= 0),
  discount_rate  smallint NOT NULL DEFAULT 0 CHECK (discount_rate BETWEEN 0 AND 100),
  description    text NOT NULL DEFAULT '',
  stock          integer NOT NULL DEFAULT 0,
  rating         numeric(2, 1) NOT NULL DEFAULT 0,
  review_count   integer NOT NULL DEFAULT 0,
  is_best        boolean NOT NULL DEFAULT false,
  order_count    integer NOT NULL DEFAULT 0,
  created_at     timestamptz NOT NULL,
  updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX products_category_idx ON products (category);
CREATE INDEX products_brand_idx ON products (brand);
-- split load: popular by order_count, new by created_at
CREATE INDEX products_order_count_idx ON products (order_count DESC);
CREATE INDEX products_created_at_idx ON products (created_at DESC);

CREATE TABLE orders (
  id              text PRIMARY KEY,
  user_id         text NOT NULL REFERENCES users (id),
  product_id      text NOT NULL REFERENCES products (id),
  quantity        smallint NOT NULL CHECK (quantity > 0),
  unit_price      integer NOT NULL CHECK (unit_price >= 0),
  shipping_cost   integer NOT NULL CHECK (shipping_cost IN (0, 2500, 3000)),
  discount_amount integer NOT NULL CHECK (discount_amount >= 0),
  total_amount    bigint NOT NULL,
  payment_method  text NOT NULL CHECK (payment_method IN ('CARD', 'NAVER_PAY', 'KAKAO_PAY', 'BANK_TRANSFER')),
  status          text NOT NULL CHECK (status IN ('PAID', 'CANCELLED', 'REFUNDED')),
  created_at      timestamptz NOT NULL,
  category        text NOT NULL,
  user_region     text NOT NULL,
  user_gender     char(1) NOT NULL,
  user_age_band   text NOT NULL,
  -- 'live' (through Kafka) or 'historical' (the one-shot year), so a historical reset never touches live data
  source          text NOT NULL DEFAULT 'live' CHECK (source IN ('live', 'historical'))
);
CREATE INDEX orders_created_at_idx ON orders (created_at);
-- the 6-month grade window: per-user sums of PAID orders
CREATE INDEX orders_user_created_idx ON orders (user_id, created_at);
CREATE INDEX orders_product_idx ON orders (product_id);

CREATE TABLE grade_history (
  id         bigserial PRIMARY KEY,
  user_id    text NOT NULL REFERENCES users (id),
  old_grade  text NOT NULL,
  new_grade  text NOT NULL,
  changed_at timestamptz NOT NULL,
  reason     text NOT NULL CHECK (reason IN ('batch', 'historical'))
);
CREATE INDEX grade_history_user_idx ON grade_history (user_id, changed_at);
CREATE INDEX grade_history_changed_at_idx ON grade_history (changed_at);

-- one-off facts about the database (e.g. that the initial seed ran, with which seed)
CREATE TABLE shopstream_meta (
  key        text PRIMARY KEY,
  value      jsonb NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);

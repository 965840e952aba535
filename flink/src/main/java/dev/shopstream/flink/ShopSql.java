package dev.shopstream.flink;

/**
 * The jobs' Flink SQL (docs/flink.md): the orders topic as a table of shopstream's JSON envelope,
 * PostgreSQL's tables as JDBC sinks, and the two INSERTs a learner would write.
 */
final class ShopSql {
  private ShopSql() {}

  /**
   * The orders topic: each record is the envelope {v, event_type, event_id, occurred_at, data}; a
   * new order's data is the order, a lifecycle step's ({order_id, from, to, at}) has no id and is
   * left out by the views below. Event time is the order's own created_at.
   */
  static String ordersTopic(Settings s) {
    return """
        CREATE TABLE orders_topic (
          event_type STRING,
          data ROW<
            id STRING, user_id STRING, product_id STRING, quantity INT, unit_price INT, shipping_cost INT,
            discount_amount INT, payment_method STRING, status STRING, created_at TIMESTAMP_LTZ(3), category STRING,
            user_region STRING, user_gender STRING, user_age_band STRING, coupon_code STRING, session_id STRING>,
          order_time AS data.created_at,
          WATERMARK FOR order_time AS order_time - INTERVAL '5' SECOND
        ) WITH (
          'connector' = 'kafka',
          'topic' = '%s',
          'properties.bootstrap.servers' = '%s',
          'properties.group.id' = '%s',
          'scan.startup.mode' = 'group-offsets',
          'properties.auto.offset.reset' = 'earliest',
          %s
          'format' = 'json',
          'json.timestamp-format.standard' = 'ISO-8601'
        )"""
        .formatted(
            quote(s.topicPrefix() + "orders"),
            quote(s.brokers()),
            quote(s.group()),
            s.bounded() ? "'scan.bounded.mode' = 'latest-offset'," : "");
  }

  /** New orders, as the orders table stores them (total_amount as the shop computes it). */
  static final String NEW_ORDERS =
      """
      CREATE TEMPORARY VIEW new_orders AS
      SELECT data.id AS id, data.user_id AS user_id, data.product_id AS product_id,
             CAST(data.quantity AS SMALLINT) AS quantity, data.unit_price AS unit_price,
             data.shipping_cost AS shipping_cost, data.discount_amount AS discount_amount,
             CAST(data.unit_price AS BIGINT) * data.quantity + data.shipping_cost - data.discount_amount AS total_amount,
             data.payment_method AS payment_method, data.status AS status, data.created_at AS created_at,
             data.category AS category, data.user_region AS user_region, data.user_gender AS user_gender,
             data.user_age_band AS user_age_band, data.coupon_code AS coupon_code, data.session_id AS session_id,
             order_time
      FROM orders_topic
      WHERE event_type = 'order_created'""";

  /** The JDBC sinks take no TIMESTAMP_LTZ: times go as UTC wall-clock TIMESTAMPs (the session and the JVM are UTC). */
  static String ordersTable(Settings s) {
    return """
        CREATE TABLE orders_table (
          id STRING, user_id STRING, product_id STRING, quantity SMALLINT, unit_price INT, shipping_cost INT,
          discount_amount INT, total_amount BIGINT, payment_method STRING, status STRING, created_at TIMESTAMP(3),
          category STRING, user_region STRING, user_gender STRING, user_age_band STRING, coupon_code STRING,
          session_id STRING,
          PRIMARY KEY (id) NOT ENFORCED
        ) WITH (%s, 'table-name' = '%s')"""
        .formatted(jdbc(s), s.ordersTable());
  }

  static final String ORDERS_INSERT =
      """
      INSERT INTO orders_table
      SELECT id, user_id, product_id, quantity, unit_price, shipping_cost, discount_amount, total_amount,
             payment_method, status, CAST(created_at AS TIMESTAMP(3)), category, user_region, user_gender, user_age_band,
             coupon_code, session_id
      FROM new_orders""";

  static String revenueTable(Settings s) {
    return """
        CREATE TABLE revenue_table (
          `minute` TIMESTAMP(3), category STRING, orders BIGINT, revenue BIGINT,
          PRIMARY KEY (`minute`, category) NOT ENFORCED
        ) WITH (%s, 'table-name' = 'category_revenue_minute')"""
        .formatted(jdbc(s));
  }

  /** Revenue per category per minute of order time: a tumbling window, closed by the watermark. */
  static final String REVENUE_INSERT =
      """
      INSERT INTO revenue_table
      SELECT CAST(window_start AS TIMESTAMP(3)), category, COUNT(*), SUM(total_amount)
      FROM TABLE(TUMBLE(TABLE new_orders, DESCRIPTOR(order_time), INTERVAL '1' MINUTE))
      GROUP BY window_start, window_end, category""";

  private static String jdbc(Settings s) {
    return """
        'connector' = 'jdbc', 'url' = '%s', 'username' = '%s', 'password' = '%s',
        'sink.buffer-flush.max-rows' = '5000', 'sink.buffer-flush.interval' = '1s', 'sink.max-retries' = '3'"""
        .formatted(quote(s.jdbcUrl()), quote(s.dbUser()), quote(s.dbPassword()));
  }

  /** A value inside a SQL string literal. */
  private static String quote(String value) {
    return value.replace("'", "''");
  }
}

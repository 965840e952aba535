package dev.shopstream.flink;

import java.time.Duration;
import java.util.TimeZone;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.table.api.StatementSet;
import org.apache.flink.table.api.TableResult;
import org.apache.flink.table.api.bridge.java.StreamTableEnvironment;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * shopstream's Flink SQL jobs in a local mini-cluster (docs/flink.md): the orders topic upserted
 * into PostgreSQL's flink_orders (beside the pipeline's own), and revenue per category per minute into
 * category_revenue_minute. Unbounded by default, checkpointing every 5 s (the Kafka offsets and the
 * JDBC buffers go together); --bounded stops at the end of what the topic holds at the start.
 */
public final class ShopJobs {
  private static final Logger LOG = LoggerFactory.getLogger(ShopJobs.class);

  private ShopJobs() {}

  public static void main(String[] args) throws Exception {
    Settings s;
    try {
      s = Settings.from(System.getenv(), args);
    } catch (IllegalArgumentException e) {
      System.err.println(e.getMessage());
      System.exit(2);
      return;
    }
    // the JDBC driver writes a TIMESTAMP in the JVM's zone: UTC, as the SQL session's
    TimeZone.setDefault(TimeZone.getTimeZone("UTC"));
    Configuration conf = new Configuration();
    // a record it cannot read or write fails the job after three tries, instead of restarting forever
    conf.set(RestartStrategyOptions.RESTART_STRATEGY, "fixed-delay");
    conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS, 3);
    conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_DELAY, Duration.ofSeconds(10));
    StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(s.parallelism(), conf);
    if (!s.bounded()) env.enableCheckpointing(5_000);
    env.getConfig().enableObjectReuse(); // rows handed between chained operators without copies
    StreamTableEnvironment tables = StreamTableEnvironment.create(env);
    // a partition with nothing new must not hold the windows of the others back
    tables.getConfig().set("table.exec.source.idle-timeout", "10 s");
    tables.getConfig().set("table.local-time-zone", "UTC");
    tables.executeSql(ShopSql.ordersTopic(s));
    tables.executeSql(ShopSql.NEW_ORDERS);
    StatementSet inserts = tables.createStatementSet();
    if (s.orders()) {
      tables.executeSql(ShopSql.ordersTable(s));
      inserts.addInsertSql(ShopSql.ORDERS_INSERT);
    }
    if (s.revenue()) {
      tables.executeSql(ShopSql.revenueTable(s));
      inserts.addInsertSql(ShopSql.REVENUE_INSERT);
    }
    LOG.info(
        "running {} from {}orders ({}, parallelism {}, group {}) into {}{}",
        String.join(" and ", s.jobs()),
        s.topicPrefix(),
        s.bounded() ? "to the end of what it holds now" : "until stopped",
        s.parallelism(),
        s.group(),
        s.jdbcUrl(),
        s.orders() ? " (orders into " + s.ordersTable() + ")" : "");
    TableResult result = inserts.execute();
    result.await();
    LOG.info("finished");
  }
}

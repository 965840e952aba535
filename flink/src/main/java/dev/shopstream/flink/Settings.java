package dev.shopstream.flink;

import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;

/**
 * What the jobs read from the environment, as shopstream's services do (docs/flink.md): the
 * brokers, the topic prefix, the database; and from the command line, which jobs run and whether
 * they stop at the end of what the topic holds now (--bounded). A bad value fails naming it.
 */
record Settings(
    String brokers,
    String topicPrefix,
    String jdbcUrl,
    String dbUser,
    String dbPassword,
    boolean orders,
    boolean revenue,
    boolean bounded,
    int parallelism,
    String group,
    String ordersTable) {

  static final String USAGE =
      "usage: ShopJobs [orders] [revenue] [--bounded] [--parallelism N] [--group NAME] [--table NAME]\n"
          + "  orders       upsert the orders topic's new orders into PostgreSQL (flink_orders)\n"
          + "  revenue      revenue per category per minute into category_revenue_minute\n"
          + "  --bounded    stop at the end of what the topic holds when the job starts\n"
          + "  --group G    the Kafka consumer group (default <TOPIC_PREFIX>flink_group)\n"
          + "  --table T    the table the orders go to (default flink_orders; the pipeline's own orders only in a database of its own)";

  static Settings from(Map<String, String> env, String[] args) {
    boolean orders = false, revenue = false, bounded = false;
    int parallelism = 0;
    String group = null;
    String table = "flink_orders";
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "orders" -> orders = true;
        case "revenue" -> revenue = true;
        case "--bounded" -> bounded = true;
        case "--parallelism" -> parallelism = positive("--parallelism", value(args, ++i, "--parallelism"));
        case "--group" -> group = value(args, ++i, "--group");
        case "--table" -> table = identifier(value(args, ++i, "--table"));
        default -> throw new IllegalArgumentException("unknown argument: " + args[i] + "\n" + USAGE);
      }
    }
    if (!orders && !revenue) orders = revenue = true;
    String prefix = env.getOrDefault("TOPIC_PREFIX", "");
    String brokers = env.getOrDefault("KAFKA_BROKERS", "127.0.0.1:19092,127.0.0.1:19093,127.0.0.1:19094");
    if (parallelism == 0) parallelism = positive("KAFKA_PARTITIONS", env.getOrDefault("KAFKA_PARTITIONS", "3"));
    URI db = databaseUri(env.getOrDefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/shopstream"));
    String[] userInfo = db.getRawUserInfo() == null ? new String[] {"postgres"} : db.getRawUserInfo().split(":", 2);
    // the driver sends a batch of upserts as multi-row statements: how Flink users tune PostgreSQL sinks
    String query = db.getRawQuery() == null ? "" : db.getRawQuery() + "&";
    String jdbc =
        "jdbc:postgresql://"
            + db.getHost()
            + ":"
            + (db.getPort() == -1 ? 5432 : db.getPort())
            + db.getRawPath()
            + "?"
            + query
            + "reWriteBatchedInserts=true";
    return new Settings(
        brokers,
        prefix,
        jdbc,
        decode(userInfo[0]),
        userInfo.length > 1 ? decode(userInfo[1]) : "",
        orders,
        revenue,
        bounded,
        parallelism,
        group == null ? prefix + "flink_group" : group,
        table);
  }

  List<String> jobs() {
    return orders && revenue ? List.of("orders", "revenue") : List.of(orders ? "orders" : "revenue");
  }

  private static URI databaseUri(String url) {
    try {
      URI uri = URI.create(url);
      if (!"postgres".equals(uri.getScheme()) && !"postgresql".equals(uri.getScheme())) throw new IllegalArgumentException();
      if (uri.getHost() == null || uri.getRawPath() == null || uri.getRawPath().length() < 2) throw new IllegalArgumentException();
      return uri;
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("DATABASE_URL: expected postgres://user@host:port/database, got \"" + url + "\"");
    }
  }

  private static String identifier(String name) {
    if (name.matches("[a-z_][a-z0-9_]{0,62}")) return name;
    throw new IllegalArgumentException("--table: expected a lower-case table name, got \"" + name + "\"");
  }

  private static String value(String[] args, int i, String flag) {
    if (i >= args.length) throw new IllegalArgumentException(flag + " needs a value\n" + USAGE);
    return args[i];
  }

  private static int positive(String name, String raw) {
    try {
      int n = Integer.parseInt(raw);
      if (n >= 1) return n;
    } catch (NumberFormatException ignored) {
      // reported below
    }
    throw new IllegalArgumentException(name + ": expected a whole number of at least 1, got \"" + raw + "\"");
  }

  /** Percent escapes only, as a URL's user info has them (a "+" stays a "+"). */
  private static String decode(String s) {
    return URLDecoder.decode(s.replace("+", "%2B"), StandardCharsets.UTF_8);
  }
}

// The CDC connector shopstream applies to Kafka Connect (docs/connect.md): Debezium's PostgreSQL
// connector over pgoutput logical replication, capturing the shop's tables into `cdc.<table>`
// topics in Debezium's envelope (before, after, op, source, ts_ms). Pure: names and config only.

/** The tables captured, each into the topic `cdc.<table>` (under TOPIC_PREFIX). */
export const CDC_TABLES = ["users", "products", "orders", "order_events"] as const;
export type CdcTable = (typeof CDC_TABLES)[number];

export interface CdcNames {
  /** The connector's name on the worker. */
  connector: string;
  /** The replication slot and the publication in PostgreSQL: shopstream_cdc_<TOPIC_PREFIX><database>, cleaned to an identifier. */
  slot: string;
  publication: string;
  topic(table: CdcTable): string;
}

/** Names from the database and TOPIC_PREFIX: two pipelines on one server keep their slots apart. */
export function cdcNames(databaseUrl: string, topicPrefix: string): CdcNames {
  const database = databaseOf(databaseUrl);
  const ident = `shopstream_cdc_${topicPrefix}${database}`
    .toLowerCase()
    .replace(/[^a-z0-9_]/g, "_")
    .slice(0, 63);
  return {
    connector: `${topicPrefix}shopstream-cdc`,
    slot: ident,
    publication: ident,
    topic: (table) => `${topicPrefix}cdc.${table}`,
  };
}

/** Debezium's config for `databaseUrl` (a postgres:// URL), its topics created with `partitions` partitions, RF 3. */
export function cdcConnectorConfig(databaseUrl: string, topicPrefix: string, partitions: number): Record<string, string> {
  const url = new URL(databaseUrl);
  const database = databaseOf(databaseUrl);
  const names = cdcNames(databaseUrl, topicPrefix);
  // Debezium names a topic <topic.prefix>.<schema>.<table>; the router drops the schema
  const debeziumPrefix = `${topicPrefix}cdc`;
  return {
    "connector.class": "io.debezium.connector.postgresql.PostgresConnector",
    "tasks.max": "1",
    "plugin.name": "pgoutput",
    "database.hostname": url.hostname,
    "database.port": url.port || "5432",
    "database.user": decodeURIComponent(url.username) || "postgres",
    "database.password": decodeURIComponent(url.password),
    "database.dbname": database,
    "topic.prefix": debeziumPrefix,
    "table.include.list": CDC_TABLES.map((t) => `public.${t}`).join(","),
    "slot.name": names.slot,
    "publication.name": names.publication,
    "publication.autocreate.mode": "filtered",
    // the rows already there first (op "r"), then every change
    "snapshot.mode": "initial",
    // numeric columns as decimal strings, not Connect's base64 bytes
    "decimal.handling.mode": "string",
    // the slot's position moves on while the captured tables are quiet: WAL is not held back
    "heartbeat.interval.ms": "10000",
    "topic.heartbeat.prefix": `${topicPrefix}__debezium-heartbeat`,
    "topic.creation.default.replication.factor": "3",
    "topic.creation.default.partitions": String(partitions),
    transforms: "route",
    "transforms.route.type": "org.apache.kafka.connect.transforms.RegexRouter",
    "transforms.route.regex": `${escapeRegex(debeziumPrefix)}\\.public\\.(.*)`,
    "transforms.route.replacement": `${debeziumPrefix}.$1`,
    // a failed record is the task's failure, seen on the status: never skipped silently
    "errors.tolerance": "none",
  };
}

function databaseOf(databaseUrl: string): string {
  return decodeURIComponent(new URL(databaseUrl).pathname.replace(/^\//, "")) || "shopstream";
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { CHAOS_PROFILES, type ChaosProfile, ChaosProfileError, parseChaosProfile } from "./domain/chaos.ts";
import type { LogFormat } from "./log.ts";
import { describe } from "./errors.ts";
import { ConfigError, type Env, Reader } from "./env-reader.ts";
import { KAFKA_DEFAULTS } from "./kafka-defaults.ts";
import { FORMATS, type Format, ORDER_FIELDS_BORN_IN, SCHEMA_VERSIONS } from "./schema-formats.ts";

// Environment and the live services' flags → one typed, validated config object. Bad values fail fast with a message naming the
// variable (docs/design.md, "Configuration"); defaults are the documented ones.

/** Set by start:all for each service it runs: the service then stops by itself if start:all is gone. */
export const SUPERVISED_ENV = "SHOPSTREAM_SUPERVISED";

/** The Kafka clients shopstream can run on (docs/design.md, "Kafka client"). */
export const KAFKA_CLIENTS = ["kafkajs", "platformatic"] as const;
export type KafkaClientName = (typeof KAFKA_CLIENTS)[number];

export interface Config {
  databaseUrl: string;
  /** The deadline of each use of PostgreSQL by a service, on the client (a frozen server enforces nothing) and as statement_timeout. */
  pgQueryTimeoutMs: number;
  redisUrl: string;
  kafkaBrokers: string[];
  kafkaClientId: string;
  kafkaCompression: "none" | "gzip";
  kafkaClient: KafkaClientName;
  /** Partitions of every topic the services create (existing topics are left as they are). */
  kafkaPartitions: number;
  /** Seconds between looks at a topic's partitions: producers and consumers follow a grown topic within about this. */
  kafkaMetadataRefreshS: number;
  /** Seconds sends to a topic that does not exist wait for it (recreated) before they are rejected. */
  kafkaMissingTopicS: number;
  /** Every producing service's batching (src/kafka-defaults.ts says what each does and why its default). */
  kafkaProducer: { lingerMs: number; maxBatch: number; maxBatchBytes: number; capacity: number };
  /** How producers write every topic's values: JSON without a schema, or a registry format (docs/design.md, "Schemas"). */
  format: Format;
  /** The Confluent-compatible API of the schema registry: producers register there, consumers read writers' schemas by id. */
  schemaRegistryUrl: string;
  /** The version of the order schema producers start with (the live page or PUT /schema-version switches it). */
  orderSchemaVersion: number;
  /** Consumers start:all runs per consumer group: one partition each at most, so no more than kafkaPartitions. */
  consumersPerGroup: number;
  topicPrefix: string;
  /** start:all applies the CDC connector and watches it (docs/connect.md). */
  cdc: boolean;
  /** The REST API of the Kafka Connect worker that runs the CDC connector. */
  connectUrl: string;
  /** WAL a replication slot may hold back before the watch warns (a slot nobody reads fills the disk). */
  cdcWalWarnBytes: number;
  cachePrefix: string;
  cacheRefreshS: number;
  /** text: one readable line per event; json: one JSON object per line, for log shippers. */
  logFormat: LogFormat;
  /** How long a consumed order waits for its user and product (a lifecycle step for its order) before it is dead-lettered. */
  referenceWaitS: number;
  /** Users the cache holds under --rate, when the producer draws from all it caches (the whole base, up to this). */
  cacheRateUsers: number;
  gradeIntervalS: number;
  producerTopN: number;
  metricsHost: string;
  metricsPort: number;
  /** Host names besides loopback and METRICS_HOST under which the scenario may be changed (a proxy's, a container's). */
  metricsAllowedHosts: string[];
  seed: string;
  seedUsers: number;
  seedProducts: number;
  speed: number;
  live: LiveFlags;
  orderIntervalS: [number, number];
  productIntervalS: [number, number];
  userCurve: { startBatch: number; startIntervalS: number; endIntervalS: number; decayPerHour: number };
  supervised: boolean;
  /**
   * Which instance of its service this process is, 1..4095; it names the service. A consumer's place
   * in its group (1, 2, 3 under start:all); a producer's stream and ids (instance 1 draws SEED's own).
   */
  instance: number;
  /** Seconds between the redis-monitor's status lines; null when unset (1 s alone, 10 s under start:all). */
  monitorIntervalS: number | null;
  /** The RAM JavaScriptCore sizes its heap for in every service process start:all runs (BUN_JSC_forceRAMSize). */
  serviceRamBytes: number;
}

/** start:all's consumers per group when CONSUMERS_PER_GROUP is unset (fewer when there are fewer partitions). */
const DEFAULT_CONSUMERS_PER_GROUP = 3;

/** The highest INSTANCE: a producer writes its instance into the 12 bits of its ids' rand_a (src/domain/ids.ts). */
export const MAX_INSTANCE = 4095;

/** The slowest clock the live services accept (SPEED or --speed): a thousand times slower than real time. */
const MIN_SPEED = 0.001;

/**
 * JavaScriptCore sizes its heap for the machine's RAM (24 GB here) and lets a busy service's garbage
 * pile up to 300–400 MB. Told 192 MB, a producer at full rate peaks near 170 MB at the same CPU per
 * order; below that the CPU spent collecting climbs fast (docs/design.md, "Memory"). Read by the
 * runtime at start, so start:all, the benchmarks and the tests hand it to every service process.
 */
export const SERVICE_RAM_BYTES = 192 * 2 ** 20;

/** The runtime settings every service process is started with. */
export function serviceRuntimeEnv(config: Pick<Config, "serviceRamBytes">): Record<string, string> {
  return { BUN_JSC_forceRAMSize: String(config.serviceRamBytes) };
}

/**
 * The flags the live services and start:all share: --speed N multiplies every cadence (it wins over
 * SPEED), --rate R drives a fixed orders/s, --scenario pins the live scenario, --count stops the
 * producer after that many orders, --chaos light|heavy|FILE injects data-quality faults with an
 * answer key (docs/design.md, "Chaos"), --clicks publishes the sessions and page events behind
 * the orders (docs/design.md, "Clickstream").
 */
export interface LiveFlags {
  rate?: number;
  clicks?: boolean;
  scenario?: string;
  count?: number;
  chaos?: ChaosProfile;
}

/** `argv`: a live service's arguments (positionals allowed); tools with flags of their own pass none. */
export function loadConfig(env: Env = process.env, argv: readonly string[] = []): Config {
  const read = new Reader(env);
  const flags = parseLiveFlags(argv);
  const kafkaPartitions = read.number("KAFKA_PARTITIONS", 3, { min: 1, integer: true });
  const config: Config = {
    databaseUrl: read.url("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/shopstream", ["postgres:", "postgresql:"]),
    // a batch write or a poll takes well under a second, a grade recompute over a historical year 1-2 s;
    // 30 s leaves room for a loaded machine, never for a hung server
    pgQueryTimeoutMs: read.number("PG_QUERY_TIMEOUT_MS", 30_000, { min: 1000, integer: true }),
    redisUrl: read.url("REDIS_URL", "redis://127.0.0.1:6379", ["redis:", "rediss:"]),
    kafkaBrokers: read.brokers("KAFKA_BROKERS", "127.0.0.1:19092,127.0.0.1:19093,127.0.0.1:19094"),
    kafkaClientId: read.string("KAFKA_CLIENT_ID", "shopstream"),
    kafkaCompression: read.oneOf("KAFKA_COMPRESSION", "none", ["none", "gzip"] as const),
    kafkaClient: read.oneOf("KAFKA_CLIENT", "kafkajs", KAFKA_CLIENTS),
    kafkaPartitions,
    kafkaMetadataRefreshS: read.number("KAFKA_METADATA_REFRESH_S", P.metadataRefreshS, { min: 1, max: 300 }),
    kafkaMissingTopicS: read.number("KAFKA_MISSING_TOPIC_S", P.missingTopicS, { min: 1, max: 3600 }),
    kafkaProducer: producerBatching(read),
    format: flags.format ?? read.oneOf("FORMAT", "json", FORMATS),
    schemaRegistryUrl: read.url("SCHEMA_REGISTRY_URL", "http://127.0.0.1:18081/apis/ccompat/v7", ["http:", "https:"]).replace(/\/+$/, ""),
    // --clicks: the version that carries the session each order was placed in, unless one is set
    orderSchemaVersion: read.number("ORDER_SCHEMA_VERSION", flags.clicks ? ORDER_FIELDS_BORN_IN.session_id : 1, {
      min: 1,
      max: SCHEMA_VERSIONS.orders.length,
      integer: true,
    }),
    consumersPerGroup: read.number("CONSUMERS_PER_GROUP", Math.min(DEFAULT_CONSUMERS_PER_GROUP, kafkaPartitions), {
      min: 1,
      max: kafkaPartitions,
      integer: true,
      maxReason: "KAFKA_PARTITIONS; a group gives each partition to one member, so more would sit idle",
    }),
    topicPrefix: read.string("TOPIC_PREFIX", ""),
    cdc: read.oneOf("CDC", "0", ["0", "1"] as const) === "1",
    connectUrl: read.url("CONNECT_URL", "http://127.0.0.1:18083", ["http:", "https:"]).replace(/\/+$/, ""),
    cdcWalWarnBytes: read.number("CDC_WAL_WARN_MB", 1024, { min: 1, integer: true }) * 2 ** 20,
    cachePrefix: read.string("CACHE_PREFIX", ""),
    cacheRefreshS: read.number("CACHE_REFRESH_S", 50, { min: 0.05 }),
    referenceWaitS: read.number("REFERENCE_WAIT_S", 30, { min: 0.1 }),
    logFormat: read.oneOf("LOG_FORMAT", "text", ["text", "json"] as const),
    cacheRateUsers: read.number("CACHE_RATE_USERS", 100_000, { min: 1000, integer: true }),
    gradeIntervalS: read.number("GRADE_INTERVAL_S", 600, { min: 0.05 }),
    producerTopN: read.number("PRODUCER_TOP_N", 200, { min: 1, integer: true }),
    metricsHost: read.string("METRICS_HOST", "127.0.0.1"),
    metricsPort: read.number("METRICS_PORT", 9464, { min: 0, max: 65535, integer: true }),
    metricsAllowedHosts: read
      .string("METRICS_ALLOWED_HOSTS", "")
      .split(",")
      .map((h) => h.trim().toLowerCase())
      .filter(Boolean),
    seed: read.string("SEED", "42"),
    seedUsers: read.number("SEED_USERS", 10_000, { min: 0, integer: true }),
    seedProducts: read.number("SEED_PRODUCTS", 20_000, { min: 0, integer: true }),
    speed: flags.speed ?? read.number("SPEED", 1, { min: MIN_SPEED }),
    live: { rate: flags.rate, scenario: flags.scenario, count: flags.count, chaos: flags.chaos, clicks: flags.clicks },
    orderIntervalS: read.range("ORDER_INTERVAL_S", [3, 5]),
    productIntervalS: read.range("PRODUCT_INTERVAL_S", [6, 8]),
    userCurve: {
      startBatch: read.number("USER_BATCH_START", 10, { min: 1, integer: true }),
      startIntervalS: read.number("USER_INTERVAL_START_S", 10, { min: 0.001 }),
      endIntervalS: read.number("USER_INTERVAL_END_S", 120, { min: 0.001 }),
      decayPerHour: read.number("USER_DECAY_PER_HOUR", 0.6, { min: 0 }),
    },
    supervised: read.string(SUPERVISED_ENV, "") === "1",
    instance: read.number("INSTANCE", 1, { min: 1, max: MAX_INSTANCE, integer: true }),
    monitorIntervalS: read.optionalNumber("MONITOR_INTERVAL_S", { min: 0.05 }),
    serviceRamBytes: read.number("BUN_JSC_forceRAMSize", SERVICE_RAM_BYTES, { min: 32 * 2 ** 20, integer: true }),
  };
  return config;
}

const P = KAFKA_DEFAULTS.producer;

function producerBatching(read: Reader): Config["kafkaProducer"] {
  const maxBatch = read.number("KAFKA_BATCH_MESSAGES", P.batchMessages, { min: 1, max: 100_000, integer: true });
  return {
    lingerMs: read.number("KAFKA_LINGER_MS", P.lingerMs, { min: 0, max: 10_000 }),
    maxBatch,
    // under the broker's message.max.bytes (1 MB by default), or a full batch is refused whole
    maxBatchBytes: read.number("KAFKA_BATCH_BYTES", P.batchBytes, { min: 1024, max: 1_000_000, integer: true }),
    capacity: read.number("KAFKA_BUFFER_MESSAGES", Math.max(P.bufferMessages, maxBatch), {
      min: maxBatch,
      max: 10_000_000,
      integer: true,
      minReason: "KAFKA_BATCH_MESSAGES; a smaller buffer could never fill a batch",
    }),
  };
}

function parseLiveFlags(argv: readonly string[]): LiveFlags & { speed?: number; format?: Format } {
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({
      args: [...argv],
      options: {
        speed: { type: "string" },
        rate: { type: "string" },
        scenario: { type: "string" },
        count: { type: "string" },
        format: { type: "string" },
        chaos: { type: "string" },
        clicks: { type: "boolean" },
      },
      allowPositionals: true,
      strict: true,
    }).values;
  } catch (err) {
    throw new ConfigError("arguments", describe(err));
  }
  const positive = (flag: string, min = 0): number | undefined => {
    const raw = values[flag.slice(2)];
    if (raw === undefined) return undefined;
    const n = Number(raw);
    if (!(n > 0) || !Number.isFinite(n)) throw new ConfigError(flag, `expected a positive number, got "${raw}"`);
    if (n < min) throw new ConfigError(flag, `must be >= ${min}, got ${n}`);
    return n;
  };
  const format = values.format as string | undefined;
  if (format !== undefined && !(FORMATS as readonly string[]).includes(format))
    throw new ConfigError("--format", `expected one of ${FORMATS.join(", ")}, got "${format}"`);
  return {
    format: format as Format | undefined,
    speed: positive("--speed", MIN_SPEED),
    rate: positive("--rate"),
    scenario: values.scenario as string | undefined,
    count: positive("--count"),
    chaos: chaosFlag(values.chaos as string | undefined),
    clicks: values.clicks === true ? true : undefined,
  };
}

/** --chaos: a profile by name, or a JSON file of one. */
function chaosFlag(raw: string | undefined): ChaosProfile | undefined {
  if (raw === undefined) return undefined;
  if (raw === "light" || raw === "heavy") return CHAOS_PROFILES[raw];
  let text: string;
  try {
    text = readFileSync(raw, "utf8");
  } catch (err) {
    throw new ConfigError("--chaos", `expected light, heavy or a profile's JSON file; cannot read "${raw}": ${describe(err)}`);
  }
  try {
    return parseChaosProfile(text, raw);
  } catch (err) {
    if (err instanceof ChaosProfileError) throw new ConfigError("--chaos", `${raw}: ${err.message}`);
    throw err;
  }
}

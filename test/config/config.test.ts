import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { loadConfig, MAX_INSTANCE } from "../../src/config.ts";
import { ConfigError } from "../../src/env-reader.ts";
import { MAX_ID_INSTANCE } from "../../src/domain/ids.ts";
import { logger, withFields } from "../../src/log.ts";

describe("loadConfig", () => {
  test("defaults are the documented ones", () => {
    const c = loadConfig({});
    expect(c.databaseUrl).toBe("postgres://postgres@127.0.0.1:5432/shopstream");
    expect(c.redisUrl).toBe("redis://127.0.0.1:6379");
    expect(c.kafkaBrokers).toEqual(["127.0.0.1:19092", "127.0.0.1:19093", "127.0.0.1:19094"]);
    expect(c.cacheRefreshS).toBe(50);
    expect(c.gradeIntervalS).toBe(600);
    expect(c.producerTopN).toBe(200);
    expect(c.metricsHost).toBe("127.0.0.1");
    expect(c.metricsPort).toBe(9464);
    expect(c.orderIntervalS).toEqual([3, 5]);
    expect(c.productIntervalS).toEqual([6, 8]);
    expect(c.instance).toBe(1);
    expect(c.monitorIntervalS).toBeNull();
    expect(c.kafkaPartitions).toBe(3);
    expect(c.consumersPerGroup).toBe(3);
    expect(c.pgQueryTimeoutMs).toBe(30_000);
    expect(c.kafkaMetadataRefreshS).toBe(10);
    expect(c.kafkaMissingTopicS).toBe(30);
    expect(c.kafkaProducer).toEqual({ lingerMs: 5, maxBatch: 2000, maxBatchBytes: 786_432, capacity: 10_000 });
  });

  test("the producers' batching is read: KAFKA_LINGER_MS, KAFKA_BATCH_MESSAGES, KAFKA_BATCH_BYTES, KAFKA_BUFFER_MESSAGES", () => {
    const env = { KAFKA_LINGER_MS: "20", KAFKA_BATCH_MESSAGES: "5000", KAFKA_BATCH_BYTES: "524288", KAFKA_BUFFER_MESSAGES: "40000" };
    expect(loadConfig(env).kafkaProducer).toEqual({ lingerMs: 20, maxBatch: 5000, maxBatchBytes: 524_288, capacity: 40_000 });
    // a batch larger than the default buffer grows the buffer with it
    expect(loadConfig({ KAFKA_BATCH_MESSAGES: "20000" }).kafkaProducer.capacity).toBe(20_000);
  });

  test("KAFKA_METADATA_REFRESH_S and KAFKA_MISSING_TOPIC_S are read", () => {
    expect(loadConfig({ KAFKA_METADATA_REFRESH_S: "2.5", KAFKA_MISSING_TOPIC_S: "120" })).toMatchObject({
      kafkaMetadataRefreshS: 2.5,
      kafkaMissingTopicS: 120,
    });
  });

  test("INSTANCE goes as high as a producer's ids can name", () => {
    expect(MAX_INSTANCE).toBe(MAX_ID_INSTANCE);
    expect(loadConfig({ INSTANCE: String(MAX_INSTANCE) }).instance).toBe(MAX_INSTANCE);
  });

  test("KAFKA_PARTITIONS and CONSUMERS_PER_GROUP: up to one consumer per partition", () => {
    expect(loadConfig({ KAFKA_PARTITIONS: "6" })).toMatchObject({ kafkaPartitions: 6, consumersPerGroup: 3 });
    expect(loadConfig({ KAFKA_PARTITIONS: "6", CONSUMERS_PER_GROUP: "6" })).toMatchObject({ kafkaPartitions: 6, consumersPerGroup: 6 });
    expect(loadConfig({ CONSUMERS_PER_GROUP: "1" }).consumersPerGroup).toBe(1);
    // fewer partitions than the default three consumers: the default follows them
    expect(loadConfig({ KAFKA_PARTITIONS: "1" })).toMatchObject({ kafkaPartitions: 1, consumersPerGroup: 1 });
    expect(() => loadConfig({ CONSUMERS_PER_GROUP: "4" })).toThrow("CONSUMERS_PER_GROUP: must be <= 3 (KAFKA_PARTITIONS;");
  });

  test("values from the environment are parsed", () => {
    const c = loadConfig({ KAFKA_BROKERS: "a:1, b:2", CACHE_REFRESH_S: "5", ORDER_INTERVAL_S: "1-2", PRODUCER_TOP_N: "50" });
    expect(c.kafkaBrokers).toEqual(["a:1", "b:2"]);
    expect(c.cacheRefreshS).toBe(5);
    expect(c.orderIntervalS).toEqual([1, 2]);
    expect(c.producerTopN).toBe(50);
    expect(loadConfig({ INSTANCE: "3", MONITOR_INTERVAL_S: "0.5" })).toMatchObject({ instance: 3, monitorIntervalS: 0.5 });
    expect(loadConfig({ PG_QUERY_TIMEOUT_MS: "5000" }).pgQueryTimeoutMs).toBe(5000);
  });

  test("the live flags join the same object; --speed wins over SPEED", () => {
    const c = loadConfig({ SPEED: "2" }, ["orders", "--speed", "60", "--rate", "3000", "--scenario", "black_friday", "--count", "10"]);
    expect(c.speed).toBe(60);
    expect(c.live).toEqual({ rate: 3000, scenario: "black_friday", count: 10 });
    expect(loadConfig({ SPEED: "2" }).speed).toBe(2);
    expect(loadConfig({}, []).live).toEqual({ rate: undefined, scenario: undefined, count: undefined });
  });

  test("--clicks starts the order schema at version 3, which carries the order's session; ORDER_SCHEMA_VERSION wins", () => {
    expect(loadConfig({}, []).orderSchemaVersion).toBe(1);
    expect(loadConfig({}, ["--clicks"]).orderSchemaVersion).toBe(3);
    expect(loadConfig({ ORDER_SCHEMA_VERSION: "2" }, ["--clicks"]).orderSchemaVersion).toBe(2);
    expect(() => loadConfig({ ORDER_SCHEMA_VERSION: "4" })).toThrow("ORDER_SCHEMA_VERSION");
  });

  for (const [argv, named] of [
    [["--rate=-5"], "--rate"],
    [["--speed", "fast"], "--speed"],
    [["--speed", "0.0001"], "--speed"], // the same floor as SPEED
    [["--sped", "2"], "arguments"],
  ] as const) {
    test(`${argv.join(" ")} fails naming ${named}`, () => {
      expect(() => loadConfig({}, argv)).toThrow(ConfigError);
      try {
        loadConfig({}, argv);
      } catch (err) {
        expect((err as ConfigError).variable).toBe(named);
      }
    });
  }

  const bad: [string, string][] = [
    ["KAFKA_BROKERS", "nonsense"],
    ["KAFKA_BROKERS", "host:99999"],
    ["DATABASE_URL", "not a url"],
    ["DATABASE_URL", "mysql://root@127.0.0.1/x"],
    ["REDIS_URL", "http://127.0.0.1:6379"],
    ["CACHE_REFRESH_S", "soon"],
    ["CACHE_REFRESH_S", "-1"],
    ["PRODUCER_TOP_N", "2.5"],
    ["METRICS_PORT", "70000"],
    ["ORDER_INTERVAL_S", "5-3"],
    ["KAFKA_COMPRESSION", "brotli"],
    ["KAFKA_CLIENT", "rdkafka"],
    ["KAFKA_PARTITIONS", "0"],
    ["KAFKA_PARTITIONS", "2.5"],
    ["KAFKA_PARTITIONS", "many"],
    ["CONSUMERS_PER_GROUP", "0"],
    ["CONSUMERS_PER_GROUP", "1.5"],
    ["CONSUMERS_PER_GROUP", "4"], // more than the 3 partitions
    ["INSTANCE", "0"],
    ["INSTANCE", "two"],
    ["INSTANCE", "4096"], // beyond what an id can name
    ["MONITOR_INTERVAL_S", "-1"],
    ["PG_QUERY_TIMEOUT_MS", "500"], // shorter than a busy machine's write
    ["PG_QUERY_TIMEOUT_MS", "30s"],
    ["KAFKA_METADATA_REFRESH_S", "0"],
    ["KAFKA_METADATA_REFRESH_S", "soon"],
    ["KAFKA_MISSING_TOPIC_S", "0.5"],
    ["KAFKA_MISSING_TOPIC_S", "forever"],
    ["KAFKA_LINGER_MS", "-1"],
    ["KAFKA_BATCH_MESSAGES", "0"],
    ["KAFKA_BATCH_BYTES", "2000000"], // over the broker's 1 MB message.max.bytes
    ["KAFKA_BUFFER_MESSAGES", "500"], // smaller than a batch
  ];
  for (const [variable, value] of bad) {
    test(`${variable}=${value} fails naming the variable`, () => {
      let error: unknown;
      try {
        loadConfig({ [variable]: value });
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).variable).toBe(variable);
      expect((error as Error).message).toStartWith(`${variable}:`);
      expect((error as Error).message).not.toContain("\n");
    });
  }
});

describe("services fail fast with one line", () => {
  const run = async (env: Record<string, string>) => {
    const proc = Bun.spawn([process.execPath, "run", join(import.meta.dir, "../../src/services/initial-seeder.ts")], {
      env: { ...process.env, ...env },
      stdout: "pipe",
      stderr: "pipe",
    });
    const [code, stderr] = await Promise.all([proc.exited, new Response(proc.stderr).text()]);
    return { code, stderr: stderr.trim() };
  };

  test("KAFKA_BROKERS=nonsense", async () => {
    const { code, stderr } = await run({ KAFKA_BROKERS: "nonsense" });
    expect(code).toBe(2);
    expect(stderr.split("\n")).toHaveLength(1);
    expect(stderr).toContain("KAFKA_BROKERS");
  });

  test("a URL's password never reaches the error: refused, unparseable or unreachable", async () => {
    for (const [variable, value] of [
      ["DATABASE_URL", "mysql://shop:s3cr3t-pw@127.0.0.1/x"],
      ["REDIS_URL", "http://:s3cr3t-pw@127.0.0.1:6379"],
      ["DATABASE_URL", "postgres//shop:s3cr3t-pw@127.0.0.1/x"],
    ] as const) {
      const err = (() => {
        try {
          loadConfig({ [variable]: value });
        } catch (e) {
          return e as ConfigError;
        }
      })();
      expect(err).toBeInstanceOf(ConfigError);
      expect(err?.variable).toBe(variable);
      expect(err?.message).not.toContain("s3cr3t-pw");
    }
    expect(loadConfig({}).databaseUrl).toBe("postgres://postgres@127.0.0.1:5432/shopstream");
    const { stderr } = await run({ DATABASE_URL: "postgres://postgres:s3cr3t-pw@127.0.0.1:1/shopstream" });
    expect(stderr).toContain("DATABASE_URL");
    expect(stderr).not.toContain("s3cr3t-pw");
  });

  test("DATABASE_URL unreachable", async () => {
    const { code, stderr } = await run({ DATABASE_URL: "postgres://postgres@127.0.0.1:1/shopstream" });
    expect(code).not.toBe(0);
    const lines = stderr.split("\n").filter((l) => l.includes("DATABASE_URL"));
    expect(lines.length).toBe(1);
    expect(lines[0]).toContain("cannot reach PostgreSQL");
  });
});

test("LOG_FORMAT is text or json; json lines carry the service, level, message, error and fields", () => {
  expect(loadConfig({}).logFormat).toBe("text");
  expect(loadConfig({ LOG_FORMAT: "json" }).logFormat).toBe("json");
  expect(() => loadConfig({ LOG_FORMAT: "yaml" })).toThrow(/LOG_FORMAT/);
  const lines: string[] = [];
  const original = console.error;
  console.error = (line: string) => void lines.push(line);
  try {
    logger("producer", "json").error("write failed", new Error("connection refused"), { partition: 2 });
    // a component's logger carries its fields on every line, beside the call's own
    withFields(logger("producer", "json"), { client: "kafkajs" }).error("broker gone", undefined, { broker: 2 });
    withFields(logger("producer", "text"), { client: "kafkajs" }).error("broker gone", undefined, { broker: 2 });
  } finally {
    console.error = original;
  }
  const entry = JSON.parse(lines[0] as string);
  expect(entry).toMatchObject({ level: "error", service: "producer", msg: "write failed", error: "connection refused", partition: 2 });
  expect(Number.isNaN(Date.parse(entry.time))).toBe(false);
  expect(JSON.parse(lines[1] as string)).toMatchObject({ msg: "broker gone", client: "kafkajs", broker: 2 });
  expect(lines[2]).toEndWith("ERROR [producer] broker gone client=kafkajs broker=2");
});

test("every variable config.ts reads is in the README's configuration table", async () => {
  const root = join(import.meta.dir, "..", "..");
  const source = await Bun.file(join(root, "src", "config.ts")).text();
  const readme = await Bun.file(join(root, "README.md")).text();
  const read = [...source.matchAll(/read\.\w+\(\s*"([A-Z][A-Z0-9_]+)"/g)].map((m) => m[1] as string);
  expect(read.length).toBeGreaterThan(30);
  // a row names one variable or several ("`SEED_USERS`, `SEED_PRODUCTS`")
  const documented = new Set(
    readme
      .split("\n")
      .filter((line) => line.startsWith("| `"))
      .flatMap((line) => [...(line.split(" | ")[0] ?? "").matchAll(/`([A-Za-z][A-Za-z0-9_]+)`/g)].map((m) => m[1])),
  );
  expect(read.filter((name) => !documented.has(name))).toEqual([]);
});

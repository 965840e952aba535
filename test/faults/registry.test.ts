import { afterAll, expect, test } from "bun:test";
import { connectRedis } from "../../src/cache/client.ts";
import { dropDatabase } from "../../src/db/client.ts";
import { readTopic } from "../../src/kafka/read-topic.ts";
import { valueSubject } from "../../src/schemas/formats.ts";
import { SchemaReader } from "../../src/schemas/reader.ts";
import { RegistryClient } from "../../src/schemas/registry.ts";
import { SchemaVersionSwitch } from "../../src/schemas/version-switch.ts";
import { createdIds } from "../../support/events.ts";
import { config, waitForZeroLag } from "../support/kafka.ts";
import { PrivateRegistry } from "../support/registry-server.ts";
import { openStage, type Stage } from "../support/stage.ts";
import { outputs, until } from "../support/until.ts";

// The schema registry SIGKILLed under an Avro order run, on a private registry this suite starts:
// the producer goes on with the ids it has; a consumer that starts during the outage cannot read
// the writers' schemas, so it waits (nothing dead-lettered, nothing skipped); a version switch asked
// for meanwhile waits too. Restarted on the same storage, the registry answers with the same ids,
// the consumer stores every order, and the producer moves to version 2.

let stage: Stage | null = null;
let registry: PrivateRegistry | null = null;
const redis = connectRedis(config.redisUrl);

afterAll(async () => {
  await registry?.destroy();
  const registryDb = stage ? `${stage.db.url}_registry` : null;
  await stage?.close();
  if (registryDb) await dropDatabase(registryDb).catch(() => undefined);
  redis.disconnect();
}, 120_000);

test("Avro orders through a registry SIGKILLed and restarted: nothing lost, ids unchanged", async () => {
  stage = await openStage({ label: "registry_kill", users: 300, products: 300 });
  registry = new PrivateRegistry(stage.db.url);
  await registry.start();
  const env = { FORMAT: "avro", SCHEMA_REGISTRY_URL: registry.url };
  const client = new RegistryClient(registry.url);
  const subject = valueSubject(stage.topics.names.topic("orders"));

  const first = stage.start("orders-consumer-1", "consumer.ts", ["orders"], env);
  const producer = stage.start("producer", "producer.ts", ["--rate", "100"], env);
  await until("orders are stored", async () => (await stage!.stored()) >= 100, { services: [producer, first], timeoutMs: 60_000 });
  const before = await client.version(subject, 1);
  expect(before).not.toBeNull();

  await registry.kill();
  // the producer writes on with the id it has
  const storedAtKill = await stage.stored();
  await until("orders flow with the registry down", async () => (await stage!.stored()) >= storedAtKill + 100, {
    services: [producer, first],
    timeoutMs: 60_000,
  });
  // a consumer that has never seen the schema: it waits for the registry
  expect(await first.stop()).toBe(0);
  const second = stage.start("orders-consumer-2", "consumer.ts", ["orders"], env);
  await until("the new consumer waits for the registry", () => second.output().includes("reading the writers' schemas"), {
    services: [second],
    timeoutMs: 60_000,
  });
  await new SchemaVersionSwitch(redis, stage.cachePrefix).pin("2");
  await until("the producer waits to switch", () => producer.output().includes("cannot follow the order schema version"), {
    services: [producer],
  });
  const storedDuringOutage = await stage.stored();
  await Bun.sleep(3000);
  expect(await stage.stored()).toBe(storedDuringOutage); // nothing stored without the schema, nothing skipped either

  await registry.start();
  await until("the producer writes version 2", () => producer.output().includes("version 2 of the order schema"), {
    services: [producer],
    timeoutMs: 60_000,
  });
  expect(await client.version(subject, 1)).toEqual(before); // same id, same schema, after the restart
  expect((await client.version(subject, 2))?.id).not.toBe(before?.id);
  expect(await producer.stop()).toBe(0);

  await waitForZeroLag(stage.topics.admin, stage.topics.names, 90_000, ["orders"]).catch((err: Error) => {
    throw new Error(`${err.message}${outputs([second, producer])}`);
  });
  const published = await readTopic(stage.topics.client, stage.topics.admin, stage.topics.names.topic("orders"));
  const reader = new SchemaReader(client);
  await reader.prepare(published.map((m) => m.bytes));
  const ids = createdIds(published, reader).sort();
  const stored = (await stage.db.sql`select id from orders order by id`).map((r) => r.id as string);
  expect(stored).toEqual(ids);
  expect(await readTopic(stage.topics.client, stage.topics.admin, stage.topics.names.dlq("orders"))).toHaveLength(0);
  expect(await second.stop()).toBe(0);
  console.log(`[faults] registry SIGKILL: ${JSON.stringify({ orders: ids.length, storedAtKill, storedDuringOutage })}`);
}, 600_000); // the registry starts twice: up to REGISTRY_START_TIMEOUT_S each on a loaded machine

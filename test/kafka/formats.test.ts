import { afterAll, beforeAll, expect, test } from "bun:test";
import { connectRedis } from "../../src/cache/client.ts";
import { readTopic } from "../../src/kafka/read-topic.ts";
import { wireOf } from "../../src/kafka/envelope.ts";
import { codecFor, type RegistryFormat, SCHEMA_TYPE, schemaText, valueSubject } from "../../src/schemas/formats.ts";
import { SchemaReader } from "../../src/schemas/reader.ts";
import { RegistryClient } from "../../src/schemas/registry.ts";
import { SchemaVersionSwitch } from "../../src/schemas/version-switch.ts";
import { frame } from "../../src/schemas/wire-codec.ts";
import { createdIds } from "../../support/events.ts";
import { order } from "../support/fixtures.ts";
import { config, waitForZeroLag } from "../support/kafka.ts";
import { openStage, type Stage } from "../support/stage.ts";
import { outputs, until } from "../support/until.ts";

// Each registry format end to end, against the schema registry deploy/local/infra.sh runs: the
// producer registers its topics' schemas and writes orders in the Confluent wire format, switches to
// version 2 of the order schema live (the pin the live page sets), and plain JSON orders join the
// same topic; the consumers store every one (Kafka's ids = PostgreSQL's ids, coupons from version 2
// on), and dead-letter a value whose schema id the registry does not know, one that does not match
// its schema, and one that matches its schema but breaks the contract.

const registry = new RegistryClient(config.schemaRegistryUrl);
const redis = connectRedis(config.redisUrl);
const stages: Stage[] = [];

beforeAll(async () => {
  // the registry is part of the local infrastructure (`bun run test` brings it up)
  await registry.subjects();
});

afterAll(async () => {
  await Promise.all(stages.map((s) => s.close()));
  redis.disconnect();
}, 120_000);

/** A value written with the schema and framed under its id, then cut in the middle. */
function cutShort(format: RegistryFormat, id: number, schema: string): Buffer {
  const codec = codecFor(SCHEMA_TYPE[format], schema);
  const o = order("O_fmt_cut", "U_x", "P_x");
  const whole = frame(id, codec.encode(wireOf("orders", o, new Date())), codec.prefix);
  return whole.subarray(0, Math.floor(whole.length / 2));
}

for (const format of ["avro", "protobuf", "jsonschema"] as const) {
  test(`${format}: every order stored once, across a live switch to version 2 and plain JSON beside it; bad values dead-lettered`, async () => {
    const stage = await openStage({ label: `fmt_${format}`, users: 300, products: 300, env: { FORMAT: format } });
    stages.push(stage);
    const { names } = stage.topics;
    const consumer = stage.start("orders-consumer", "consumer.ts", ["orders"]);
    const producer = stage.start("producer", "producer.ts", ["--rate", "100"]);
    await until("the producer publishes", () => producer.output().includes("publishing"), { services: [producer, consumer] });
    await until("orders are stored", async () => (await stage.stored()) >= 100, { services: [producer, consumer], timeoutMs: 60_000 });
    // the live page's switch: every producer of orders registers version 2 and writes it
    await new SchemaVersionSwitch(redis, stage.cachePrefix).pin("2");
    await until("the producer writes version 2", () => producer.output().includes("version 2 of the order schema"), {
      services: [producer],
    });
    const storedAtSwitch = await stage.stored();
    await until("version 2 orders are stored", async () => (await stage.stored()) >= storedAtSwitch + 100, {
      services: [producer, consumer],
      timeoutMs: 60_000,
    });
    expect(await producer.stop()).toBe(0);
    // plain JSON on the same topic, from another instance (ids of its own)
    const json = stage.start("producer-json", "producer.ts", ["--rate", "100", "--count", "50"], { FORMAT: "json", INSTANCE: "2" });
    expect(await json.proc.exited).toBe(0);

    // three bad values, keyed apart
    const topic = names.topic("orders");
    const v1 = await registry.version(valueSubject(topic), 1);
    expect(v1?.schema).toBe(schemaText(format, "orders", 1));
    const writer = await stage.topics.producer();
    const bad = order("O_fmt_bad", "U_nobody", "P_nothing", { quantity: 0, total_amount: 0, unit_price: 0 });
    const contractBreaking = Buffer.from(
      JSON.stringify({ v: 1, event_type: "order_created", event_id: bad.id, occurred_at: new Date(), data: bad }),
    );
    await Promise.all([
      writer.send(topic, { key: "bad-1", value: frame(987_654_321, Buffer.from("whatever")) }),
      // a real value of the schema, cut short
      writer.send(topic, { key: "bad-2", value: cutShort(format, v1?.id as number, v1?.schema as string) }),
      // in the registry's frame for JSON Schema, plain JSON beside the binary formats
      writer.send(topic, { key: "bad-3", value: format === "jsonschema" ? frame(v1?.id as number, contractBreaking) : contractBreaking }),
    ]);

    await waitForZeroLag(stage.topics.admin, names, 90_000, ["orders"]).catch((err: Error) => {
      throw new Error(`${err.message}${outputs([consumer])}`);
    });
    const published = await readTopic(stage.topics.client, stage.topics.admin, topic);
    const reader = new SchemaReader(registry);
    await reader.prepare(published.map((m) => m.bytes).filter((b) => b !== null && b.subarray(0, 5).readUInt32BE(1) !== 987_654_321));
    const good = published.filter((m) => !m.key?.startsWith("bad-"));
    const ids = createdIds(good, reader).sort();
    const stored = (await stage.db.sql`select id from orders order by id`).map((r) => r.id as string);
    expect(stored).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
    expect(good.filter((m) => m.bytes?.[0] === 0).length).toBeGreaterThan(200);
    expect(good.filter((m) => m.bytes?.[0] === 0x7b).length).toBe(50);

    // version 2 carried the coupons: every discounted order written after the switch has one
    const [coupons] = await stage.db.sql`
      select count(*) filter (where coupon_code is not null)::int as with_coupon,
             count(*) filter (where coupon_code is not null and discount_amount = 0)::int as without_discount
      from orders`;
    expect(coupons?.with_coupon).toBeGreaterThan(0);
    expect(coupons?.without_discount).toBe(0);
    const subject = await registry.version(valueSubject(topic), "latest");
    expect(subject?.version).toBe(2);
    expect(subject?.schema).toBe(schemaText(format, "orders", 2));

    // the dead letters name their faults
    const dead = await readTopic(stage.topics.client, stage.topics.admin, names.dlq("orders"));
    const reasons = Object.fromEntries(dead.map((d) => [d.key, JSON.parse(d.value).reason as string]));
    expect(Object.keys(reasons).sort()).toEqual(["bad-1", "bad-2", "bad-3"]);
    expect(reasons["bad-1"]).toContain("schema id 987654321 is not in the registry");
    expect(reasons["bad-2"]).toMatch(/does not match|not a Protobuf|not JSON/);
    expect(reasons["bad-3"]).toContain("data.quantity");
    expect(await consumer.stop()).toBe(0);
  }, 240_000);
}

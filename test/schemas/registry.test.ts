import { afterAll, expect, test } from "bun:test";
import { connectRedis, deleteByPrefix } from "../../src/cache/client.ts";
import { topicNames } from "../../src/kafka/topics.ts";
import type { Logger } from "../../src/log.ts";
import { openEventSerializer } from "../../src/schemas/open.ts";
import { avroSchemaOf } from "../../src/schemas/avro.ts";
import { SCHEMA_TYPE, schemaText, valueSubject } from "../../src/schemas/formats.ts";
import { RegistryClient, RegistryUnavailable, SchemaRefused } from "../../src/schemas/registry.ts";
import { SchemaReader } from "../../src/schemas/reader.ts";
import { frame } from "../../src/schemas/wire-codec.ts";
import { InvalidEvent } from "../../src/kafka/contract.ts";
import { decode } from "../../src/kafka/envelope.ts";
import { order } from "../support/fixtures.ts";
import { SchemaVersionSwitch, schemaVersionFollower } from "../../src/schemas/version-switch.ts";
import { uniqueSuffix } from "../../support/db.ts";
import { config } from "../support/kafka.ts";

// The registry client and the producers' side of evolution against the registry infra.sh runs:
// registering is idempotent, compatibility is BACKWARD, a refusal is one line and the producer stays
// on its version, and a registry that does not answer names SCHEMA_REGISTRY_URL.

const registry = new RegistryClient(config.schemaRegistryUrl);
const redis = connectRedis(config.redisUrl);
const prefix = `test:schemas:${uniqueSuffix()}:`;
/** Every topic name here starts with it: its subjects go at the end. */
const topics = `test.schemas.${uniqueSuffix()}.`;

afterAll(async () => {
  await registry.deleteSubjects(topics);
  await deleteByPrefix(redis, prefix);
  redis.disconnect();
});

function capture(): Logger & { lines: string[] } {
  const lines: string[] = [];
  return {
    lines,
    info: (m) => lines.push(`INFO ${m}`),
    warn: (m) => lines.push(`WARN ${m}`),
    error: (m) => lines.push(`ERROR ${m}`),
  };
}

test("registering is idempotent and BACKWARD; producers starting together all set the subject's compatibility", async () => {
  const names = topicNames(`${topics}reg_${uniqueSuffix()}.`);
  const subject = valueSubject(names.topic("orders"));
  const opened = await Promise.all(
    [1, 2, 3].map(() =>
      openEventSerializer({ format: "avro", schemaRegistryUrl: config.schemaRegistryUrl, orderSchemaVersion: 1 }, names, ["orders"]),
    ),
  );
  const ids = opened.map((s) => s.topics()[0]?.schemaId);
  expect(new Set(ids).size).toBe(1);
  expect(await registry.version(subject, "latest")).toMatchObject({
    version: 1,
    id: ids[0],
    schemaType: "AVRO",
    schema: schemaText("avro", "orders", 1),
  });
  const res = await fetch(`${config.schemaRegistryUrl}/config/${subject}`);
  expect(((await res.json()) as { compatibilityLevel: string }).compatibilityLevel).toBe("BACKWARD");
  // another type of schema on the same subject: refused in one line, naming both types
  const protobuf = openEventSerializer({ format: "protobuf", schemaRegistryUrl: config.schemaRegistryUrl, orderSchemaVersion: 1 }, names, [
    "orders",
  ]);
  await expect(protobuf).rejects.toThrow(SchemaRefused);
  await expect(protobuf).rejects.toThrow(/holds AVRO schemas/);
});

for (const format of ["avro", "protobuf", "jsonschema"] as const)
  test(`${format}: a producer starting at order version 3 on a new subject registers 1 and 2 first, so later producers at 1 and 2 are taken`, async () => {
    // registered alone, version 3 would be the subject's only one: version 1 or 2 would then be judged
    // against it under BACKWARD, and Protobuf (a removed field) and JSON Schema (closed objects) refuse
    const names = topicNames(`${topics}${format}_from3_${uniqueSuffix()}.`);
    const subject = valueSubject(names.topic("orders"));
    const at = (v: number) => ({ format, schemaRegistryUrl: config.schemaRegistryUrl, orderSchemaVersion: v });
    const newest = await openEventSerializer(at(3), names, ["orders"]);
    const registered = await Promise.all([1, 2, 3].map((v) => registry.version(subject, v)));
    expect(registered.map((r) => r?.version)).toEqual([1, 2, 3]);
    expect(new Set(registered.map((r) => r?.id)).size).toBe(3);
    expect(newest.topics()[0]).toMatchObject({ version: 3, schemaId: registered[2]?.id });
    // later producers at earlier versions, each asking the registry, are given those versions' ids
    for (const v of [1, 2]) {
      const later = await openEventSerializer(at(v), names, ["orders"]);
      expect(later.topics()[0]).toMatchObject({ version: v, schemaId: registered[v - 1]?.id });
    }
    expect((await registry.version(subject, "latest"))?.version).toBe(3);
  });

for (const format of ["protobuf", "jsonschema"] as const)
  test(`${format}: on a subject whose history began at version 2, a producer at version 3 passes over the refused version 1 and starts`, async () => {
    const names = topicNames(`${topics}${format}_from2_${uniqueSuffix()}.`);
    const subject = valueSubject(names.topic("orders"));
    await registry.setCompatibility(subject, "BACKWARD");
    const v2 = await registry.register(subject, SCHEMA_TYPE[format], schemaText(format, "orders", 2));
    const at = (v: number) => ({ format, schemaRegistryUrl: config.schemaRegistryUrl, orderSchemaVersion: v });
    // version 1 after 2: refused by this format's rules, so the subject's own history is what it is
    await expect(openEventSerializer(at(1), names, ["orders"])).rejects.toThrow(SchemaRefused);
    const newest = await openEventSerializer(at(3), names, ["orders"]);
    expect(newest.topics()[0]).toMatchObject({ version: 3, schemaId: (await registry.version(subject, "latest"))?.id });
    expect((await registry.version(subject, 1))?.id).toBe(v2);
  });

test("a version the registry refuses leaves the producer on its own, said once in one line", async () => {
  const names = topicNames(`${topics}refuse_${uniqueSuffix()}.`);
  const subject = valueSubject(names.topic("orders"));
  const serializer = await openEventSerializer(
    { format: "avro", schemaRegistryUrl: config.schemaRegistryUrl, orderSchemaVersion: 1 },
    names,
    ["orders"],
  );
  // someone registered a coupon_code version 2 cannot read (a required long): ours is then incompatible
  const foreign = avroSchemaOf("orders", 1) as { fields: { name: string; type: unknown }[] };
  const data = foreign.fields.find((f) => f.name === "data")?.type as { fields: object[] }[];
  data[0]?.fields.push({ name: "coupon_code", type: "long" });
  await registry.setCompatibility(subject, "NONE");
  await registry.register(subject, "AVRO", JSON.stringify(foreign));
  await registry.setCompatibility(subject, "BACKWARD");

  const pin = new SchemaVersionSwitch(redis, prefix);
  await pin.pin("2");
  const log = capture();
  const follow = schemaVersionFollower(pin, serializer, 1, log);
  await follow();
  await follow(); // not asked again while the pin stays
  expect(log.lines).toHaveLength(1);
  expect(log.lines[0]).toMatch(/^ERROR staying on version 1 of the order schema: schema registry refused a new version of .*orders-value/);
  expect(log.lines[0]).not.toContain("\n");
  expect(serializer.topics()[0]?.version).toBe(1);
  await pin.clear();
});

test("a registry that does not answer is waited for a while, quietly, then one error naming SCHEMA_REGISTRY_URL", async () => {
  const nowhere = "http://127.0.0.1:9/apis/ccompat/v7";
  const log = capture();
  const started = Date.now();
  const opening = openEventSerializer({ format: "avro", schemaRegistryUrl: nowhere, orderSchemaVersion: 1 }, topicNames("x."), ["users"], {
    log,
    waitMs: 3000,
  });
  await expect(opening).rejects.toThrow(
    /FORMAT=avro needs the schema registry at http:\/\/127\.0\.0\.1:9\/apis\/ccompat\/v7 \(SCHEMA_REGISTRY_URL\)/,
  );
  expect(Date.now() - started).toBeGreaterThanOrEqual(2000); // it tried more than once
  expect(log.lines).toEqual([
    expect.stringMatching(/^WARN schema registry at .*:9\/apis\/ccompat\/v7 .*does not answer; waiting up to 3 s for it$/),
  ]);
  await expect(new RegistryClient(nowhere).schemaById(1)).rejects.toThrow(RegistryUnavailable);
  // JSON needs no registry at all
  const json = await openEventSerializer({ format: "json", schemaRegistryUrl: nowhere, orderSchemaVersion: 2 }, topicNames("x."), [
    "orders",
  ]);
  expect(json.topics()).toEqual([{ topic: "x.orders", format: "json", version: 2, schemaId: null }]);
});

test("a producing service waits for a registry that answers only after a while (one starting up)", async () => {
  let refused = 0;
  const starting = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req) {
      if (refused < 3) {
        refused++;
        return new Response("starting", { status: 503 });
      }
      const url = new URL(req.url);
      const answer = await fetch(`${config.schemaRegistryUrl.replace(/\/apis\/ccompat\/v7$/, "")}${url.pathname}${url.search}`, {
        method: req.method,
        headers: { "content-type": req.headers.get("content-type") ?? "application/json" },
        body: req.method === "GET" ? undefined : await req.text(),
      });
      return new Response(await answer.text(), { status: answer.status, headers: { "content-type": "application/json" } });
    },
  });
  try {
    const names = topicNames(`${topics}late_${uniqueSuffix()}.`);
    const log = capture();
    const url = `http://127.0.0.1:${starting.port}/apis/ccompat/v7`;
    const serializer = await openEventSerializer({ format: "avro", schemaRegistryUrl: url, orderSchemaVersion: 1 }, names, ["orders"], {
      log,
    });
    expect(refused).toBe(3);
    const [orders] = serializer.topics();
    expect(orders?.schemaId).toBe((await registry.version(valueSubject(names.topic("orders")), 1))?.id);
    expect(log.lines).toHaveLength(1);
    expect(log.lines[0]).toMatch(/^WARN schema registry at .* failed to .*: 503 starting; waiting up to 60 s for it$/);
  } finally {
    starting.stop(true);
  }
}, 30_000);

test("a consumer's reader: a record's own faults are InvalidEvent (dead-lettered), a registry that is not one pauses", async () => {
  const o = { ...order("O_read_1", "U_read", "P_read"), user_region: "서울" };
  const reader = new SchemaReader(registry);
  const values: Record<string, Buffer> = {};
  for (const format of ["avro", "protobuf", "jsonschema"] as const) {
    const s = await openEventSerializer(
      { format, schemaRegistryUrl: config.schemaRegistryUrl, orderSchemaVersion: 1 },
      topicNames(`${topics}${format}_${uniqueSuffix()}.`),
      ["orders"],
    );
    values[format] = s.encode("orders", o) as Buffer;
  }
  const seoul = Buffer.from("서울");
  const broken = (v: Buffer) => {
    const copy = Buffer.from(v);
    copy[copy.indexOf(seoul)] = 0xff; // the region's first byte no longer UTF-8
    return copy;
  };
  const bad = {
    short: Buffer.from([0, 0, 1]),
    unknownId: frame(2_000_000_000, Buffer.from("x")),
    truncatedAvro: (values.avro as Buffer).subarray(0, 30),
    truncatedProtobuf: (values.protobuf as Buffer).subarray(0, 30),
    notUtf8Avro: broken(values.avro as Buffer),
    notUtf8Protobuf: broken(values.protobuf as Buffer),
    notUtf8JsonSchema: broken(values.jsonschema as Buffer),
  };
  await reader.prepare([...Object.values(values), ...Object.values(bad)]);
  for (const v of Object.values(values)) expect(decode("orders", v, reader).data).toMatchObject({ id: "O_read_1", user_region: "서울" });
  for (const [what, v] of Object.entries(bad)) expect(() => decode("orders", v, reader), what).toThrow(InvalidEvent);
  expect(() => decode("orders", bad.unknownId, reader)).toThrow("schema id 2000000000 is not in the registry");

  // a URL that answers 404 as no registry would: the batch waits (RegistryUnavailable), nothing is judged
  const elsewhere = new SchemaReader(new RegistryClient(config.schemaRegistryUrl.replace("/apis/ccompat/v7", "/apis/nothing")));
  await expect(elsewhere.prepare([values.avro as Buffer])).rejects.toThrow(RegistryUnavailable);
  await expect(elsewhere.prepare([values.avro as Buffer])).rejects.toThrow(/is SCHEMA_REGISTRY_URL the registry's/);
  expect(() => decode("orders", values.avro as Buffer, elsewhere)).toThrow("was not fetched");
});

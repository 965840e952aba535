import { afterAll, expect, test } from "bun:test";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { readTopic } from "../../src/kafka/read-topic.ts";
import { valueSubject } from "../../src/schemas/formats.ts";
import { SchemaReader } from "../../src/schemas/reader.ts";
import { RegistryClient } from "../../src/schemas/registry.ts";
import { createdIds } from "../../support/events.ts";
import { config } from "../support/kafka.ts";
import type { RunningService } from "../support/services.ts";
import { openStage, type Stage } from "../support/stage.ts";

// Our Avro is Avro, not just what our own codec reads back: Apache Avro's Java library (a decoder
// none of our code is in) reads every value the producer wrote, across versions 1 and 2 of the order
// schema, with the writer's schema fetched from the registry by the id in each value, and sees the
// same orders we decode.

const ROOT = join(import.meta.dir, "../..");
const JAVA_DIR = join(ROOT, "test/support/java");
const CACHE = join(ROOT, ".local/java-avro-check");
const registry = new RegistryClient(config.schemaRegistryUrl);
const stages: Stage[] = [];

afterAll(async () => {
  await Promise.all(stages.map((s) => s.close()));
}, 120_000);

async function run(cmd: string[], what: string): Promise<string> {
  const proc = Bun.spawn(cmd, { cwd: ROOT, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  if (code !== 0) throw new Error(`${what} exited ${code}\n${err.slice(-3000)}\n${out.slice(-1500)}`);
  return out;
}

/** Avro's jars, resolved by Maven once per version of the pom (the marker names its hash). */
async function avroLibs(): Promise<string> {
  const pom = join(JAVA_DIR, "pom.xml");
  const hash = new Bun.CryptoHasher("sha256").update(readFileSync(pom)).digest("hex").slice(0, 16);
  const libs = join(CACHE, "libs");
  if (existsSync(join(libs, `.pom-${hash}`))) return libs;
  const tmp = join(CACHE, `libs.tmp.${process.pid}`);
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(CACHE, { recursive: true });
  const args = ["-B", "-q", "-Dstyle.color=never", "-f", pom, "org.apache.maven.plugins:maven-dependency-plugin:3.6.1:copy-dependencies"];
  args.push(`-DoutputDirectory=${tmp}`, "-DincludeScope=runtime");
  if (process.env.MAVEN_REPO_LOCAL) args.push(`-Dmaven.repo.local=${process.env.MAVEN_REPO_LOCAL}`);
  await run(["mvn", ...args], "mvn copy-dependencies");
  // swapped in whole, so a failed resolve never leaves a half-filled libs dir behind a marker
  rmSync(libs, { recursive: true, force: true });
  renameSync(tmp, libs);
  writeFileSync(join(libs, `.pom-${hash}`), "");
  return libs;
}

async function exitsCleanly(service: RunningService): Promise<void> {
  const code = await service.proc.exited;
  if (code !== 0) throw new Error(`${service.name} exited ${code}\n${service.output().slice(-3000)}`);
}

test("Apache Avro's Java decoder reads every order the producer wrote, in both schema versions, as we read them", async () => {
  const stage = await openStage({ label: "java_avro", users: 300, products: 300, env: { FORMAT: "avro" } });
  stages.push(stage);
  // two producers one after the other, so the topic holds values of both schema versions
  await exitsCleanly(stage.start("producer", "producer.ts", ["--rate", "100", "--count", "120"], { ORDER_SCHEMA_VERSION: "1" }));
  await exitsCleanly(
    stage.start("producer-2", "producer.ts", ["--rate", "100", "--count", "80"], { INSTANCE: "2", ORDER_SCHEMA_VERSION: "2" }),
  );

  const topic = stage.topics.names.topic("orders");
  const published = await readTopic(stage.topics.client, stage.topics.admin, topic);
  const reader = new SchemaReader(registry);
  await reader.prepare(published.map((m) => m.bytes));
  const ours = new Map<string, { total_amount: number; occurred_at: string; coupon_code?: string | null }>();
  for (const m of published) {
    const event = reader.read(m.bytes as Buffer) as { event_type: string; occurred_at: string; data: Record<string, unknown> };
    if (event.event_type === "order_created")
      ours.set(event.data.id as string, { ...(event.data as { total_amount: number }), occurred_at: event.occurred_at });
  }

  const [kafkaLibs, libs] = await Promise.all([
    run(["bash", "deploy/local/infra.sh", "kafka-classpath"], "infra.sh kafka-classpath").then((s) => s.trim()),
    avroLibs(),
  ]);
  const classes = join(CACHE, "classes");
  const classpath = `${libs}/*:${kafkaLibs}`;
  await run(["javac", "-d", classes, "-cp", classpath, join(JAVA_DIR, "AvroDump.java")], "javac AvroDump.java");
  const dump = await run(
    [
      "java",
      "-cp",
      `${classes}:${classpath}`,
      "AvroDump",
      config.kafkaBrokers.join(","),
      topic,
      config.schemaRegistryUrl,
      String(published.length),
    ],
    "java AvroDump",
  );

  const lines = dump.split("\n").filter((l) => l !== "");
  expect(lines.length).toBe(published.length);
  const rows = lines.map((l) => l.split("\t"));
  const created = rows.filter((r) => r[1] === "order_created");
  const javaIds = created.map((r) => r[3] as string).sort();
  const ourIds = createdIds(published, reader).sort();
  expect(javaIds).toEqual(ourIds);
  expect(ourIds.length).toBe(200);

  const [v1, v2] = await Promise.all([registry.version(valueSubject(topic), 1), registry.version(valueSubject(topic), 2)]);
  const schemaIds = [...new Set(rows.map((r) => Number(r[0])))].sort((a, b) => a - b);
  expect(schemaIds).toEqual([v1?.id as number, v2?.id as number].sort((a, b) => a - b));

  let withCoupon = 0;
  for (const [schemaId, , , id, occurredAt, total, coupon] of created) {
    const order = ours.get(id as string);
    expect(order).toBeDefined();
    expect(Number(total)).toBe(order?.total_amount as number);
    expect(Number(occurredAt)).toBe(Date.parse(order?.occurred_at as string));
    if (Number(schemaId) === v1?.id) expect(coupon).toBe("null");
    else {
      // the same coupon as ours, or "null" exactly when ours has none
      expect(coupon).toBe(order?.coupon_code ?? "null");
      if (order?.coupon_code) withCoupon++;
    }
  }
  // without a coupon among them, version 2's field would go unchecked
  expect(withCoupon).toBeGreaterThan(0);
}, 240_000);

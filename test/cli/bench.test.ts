import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig } from "../../src/config.ts";
import { connect } from "../../src/db/client.ts";
import { connectAdmin, createKafkaClient } from "../../src/kafka/client.ts";

// The README's benchmark commands as a user types them, every phase on a few hundred orders
// (`--tiny`): a schema or harness change that breaks the report fails here, not on a user's
// machine. Nothing is timed; the report goes to a file of the test's own. Runs once (test/cli is
// outside the second client's pass): `--client both` covers both clients.

const ROOT = join(import.meta.dir, "..", "..");
const dir = mkdtempSync(join(tmpdir(), "shopstream-bench-test-"));

afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function bench(args: string[]): Promise<{ code: number; output: string }> {
  const proc = Bun.spawn([process.execPath, "run", "bench", "--", ...args], { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, output: stdout + stderr };
}

/** The report from the line starting with `title` up to the next blank line after its table (or 600 characters, if it has none). */
function section(md: string, title: string): string {
  const at = md.indexOf(title);
  if (at < 0) return `(no line starting "${title}" in the report)`;
  const end = md.indexOf("\n\n", md.indexOf("\n\n", at) + 2);
  return md.slice(at, end < 0 ? at + 600 : end + 1);
}

/** What a bench run may leave behind: its databases, topics and groups all start with the bench's prefix. */
async function leftovers(): Promise<string[]> {
  const config = loadConfig();
  const sql = connect(config.databaseUrl, { max: 1 });
  const client = await createKafkaClient(config, "bench-test");
  const admin = await connectAdmin(client);
  try {
    const dbs = await sql<{ datname: string }[]>`select datname from pg_database where datname like 'shopstream_bench_%'`;
    const topics = (await admin.listTopics()).filter((t) => t.startsWith("bench."));
    return [...dbs.map((d) => d.datname), ...topics];
  } finally {
    await admin.close();
    await sql.end();
  }
}

test("bun run bench -- --tiny --client both: every phase, the CPU account and both clients' profiles in the report", async () => {
  const before = await leftovers();
  const results = join(dir, "run.md");
  const { code, output } = await bench(["--tiny", "--client", "both", "--results", results]);
  if (code !== 0) console.error(output.slice(-4000));
  expect(code).toBe(0);
  // the formats beside JSON, in the same run
  expect(readFileSync(results, "utf8")).toContain("## Formats (kafkajs, 300 orders a run, two rounds)");
  // and the clickstream beside orders alone, every record stored once
  expect(readFileSync(results, "utf8")).toMatch(
    /## Clicks \(kafkajs, 20 orders a run, two rounds\)[\s\S]*\| round 2, with clicks \| [\d,]+ \([\d.]+ clicks an order[^|]*\|[^\n]*\| yes \|/,
  );
  const md = readFileSync(results, "utf8");
  expect(md).toContain("`bun bench --client both --tiny`");
  // every order of every Kafka ON and OFF phase in PostgreSQL exactly once, on both clients
  expect(md).toMatch(/\| every order in PostgreSQL exactly once \(max rate and half load\) \| yes \| yes \| yes \|/);
  // the account names each kind of process and adds up to the machine
  const account = md.slice(md.indexOf("### CPU account"), md.indexOf("### CPU profiles"));
  for (const row of ["producer process", "order consumers", "Kafka brokers", "PostgreSQL backends", "direct writer", "whole machine"])
    expect(account).toContain(row);
  // a profile of the producer and of an orders consumer per client, each with functions in it
  // (checked a section at a time, so that a failure shows the section)
  for (const client of ["kafkajs", "platformatic"]) {
    const producer = section(md, `${client} producer, profiled (`);
    expect(producer).toMatch(/^[a-z]+ producer, profiled \(300 orders, [\d,]+ samples; [\d.,]+ µs CPU per order\)\n\n(\|[^\n]*\n){3,}/);
    const consumer = section(md, `${client} order consumer 1, profiled (`);
    expect(consumer).toMatch(
      /^[a-z]+ order consumer 1, profiled \([\d,]+ of 300 orders, its partition; [\d,]+ samples; [\d.,]+ µs CPU per order\)\n\n(\|[^\n]*\n){3,}/,
    );
  }
  for (const section of ["### Ratios to the references", "### References", "### Micro-benchmarks (mitata)"]) expect(md).toContain(section);
  // and the engines' drain: our consumers and Flink, each landing exactly the topic's orders
  expect(md).toMatch(/## Engines: our orders consumers against Flink \(kafkajs, 300 orders, two rounds\)/);
  // what the run made is gone again
  expect((await leftovers()).filter((x) => !before.includes(x))).toEqual([]);
}, 900_000);

test("bun run bench -- --tiny --sweep --client both: every producer setting against ProducerPerformance", async () => {
  const results = join(dir, "sweep.md");
  const { code, output } = await bench(["--tiny", "--sweep", "--client", "both", "--results", results]);
  if (code !== 0) console.error(output.slice(-4000));
  expect(code).toBe(0);
  const md = readFileSync(results, "utf8");
  for (const client of ["kafkajs", "platformatic"]) expect(md).toContain(client);
  expect(md).toContain("maxBatch 2000, linger 5 ms, none");
  expect(md).toContain("maxBatch 8000, linger 5 ms, gzip");
}, 600_000);

test("bun run bench -- --tiny --formats: the producer alone and the whole pipeline in every format, each exactly once", async () => {
  const results = join(dir, "formats.md");
  const { code, output } = await bench(["--tiny", "--formats", "--results", results]);
  if (code !== 0) console.error(output.slice(-4000));
  expect(code).toBe(0);
  const md = readFileSync(results, "utf8");
  for (const format of ["json", "avro", "protobuf", "jsonschema"])
    expect(md).toMatch(new RegExp(`\\| ${format} \\| [\\d,]+ / [\\d,]+ \\(`));
  expect(md.match(/\| yes \|/g)).toHaveLength(4);
  expect(md).toContain("two rounds");
}, 600_000);

test("bun run bench -- --tiny --clicks: the pipeline with its clickstream beside orders alone in as many records", async () => {
  const results = join(dir, "clicks.md");
  const { code, output } = await bench(["--tiny", "--clicks", "--results", results]);
  if (code !== 0) console.error(output.slice(-4000));
  expect(code).toBe(0);
  const md = readFileSync(results, "utf8");
  // two rounds of each, all stored once
  const rows = [...md.matchAll(/\| round (\d), (orders alone|with clicks) \| ([\d,]+)[^\n]*\| (yes|NO) \|/g)];
  expect(rows.map((r) => `${r[1]} ${r[2]} ${r[4]}`)).toEqual([
    "1 orders alone yes",
    "1 with clicks yes",
    "2 orders alone yes",
    "2 with clicks yes",
  ]);
  expect(Number(rows[1]![3]!.replaceAll(",", ""))).toBeGreaterThan(20 * 20); // 20 orders, ~40 clicks each
  expect(md).toMatch(/With clicks the pipeline moves [\d.]+× the records per second of orders alone/);
}, 300_000);

test("bun run bench -- --tiny --engines: our orders consumers and the Flink job drain one topic, each exactly", async () => {
  const results = join(dir, "engines.md");
  const { code, output } = await bench(["--tiny", "--engines", "--results", results]);
  if (code !== 0) console.error(output.slice(-4000));
  expect(code).toBe(0);
  const md = readFileSync(results, "utf8");
  const rows = [
    ...md.matchAll(
      /\| round (\d), (shopstream's orders consumers|Flink 1\.20 SQL job \(JDBC upsert\)) \| ([\d,]+) \|[^\n]*\| (yes|NO) \|/g,
    ),
  ];
  expect(rows.map((r) => `${r[1]} ${r[2]} ${r[3]} ${r[4]}`)).toEqual([
    "1 shopstream's orders consumers 300 yes",
    "1 Flink 1.20 SQL job (JDBC upsert) 300 yes",
    "2 shopstream's orders consumers 300 yes",
    "2 Flink 1.20 SQL job (JDBC upsert) 300 yes",
  ]);
  expect(md).toMatch(/× over the whole drain from each engine's start, for [\d.]+× less CPU per row over the drain\./);
}, 300_000);

test("bun run bench/seed.ts: the initial seeder's timing runs", async () => {
  const proc = Bun.spawn([process.execPath, "run", "bench/seed.ts"], { cwd: ROOT, env: { ...process.env, RUNS: "1" }, stdout: "pipe" });
  const out = await new Response(proc.stdout).text();
  expect(await proc.exited).toBe(0);
  expect(out).toMatch(/initial seed \(10,000 users \+ 20,000 products.*median [\d.]+ s over 1 runs/);
}, 120_000);

test("bun run bench/rate-mix.ts: the --rate draw replayed in memory prints its CPU and grade mix", async () => {
  const run = (args: string[]) =>
    Bun.spawn([process.execPath, "run", "bench/rate-mix.ts", ...args], { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
  const proc = run(["--customers", "500", "--orders", "3000"]);
  const out = await new Response(proc.stdout).text();
  expect(await proc.exited).toBe(0);
  expect(out).toMatch(/draw CPU: [\d.]+ µs\/order/);
  expect(out).toMatch(/BRONZE [\d.]+ %, SILVER [\d.]+ % \(15–30 %\), GOLD [\d.]+ % \(3–10 %\), VIP [\d.]+ % \(0.5–3 %\)/);
  expect(out).toContain("spacing overruns: 0");
  const bad = run(["--orders", "many"]);
  expect(await bad.exited).toBe(2);
  expect(await new Response(bad.stderr).text()).toContain("--orders must be a whole number > 0");
}, 60_000);

test("a bad flag is refused in one line, before anything starts", async () => {
  const { code, output } = await bench(["--client", "kafka"]);
  expect(code).toBe(2);
  expect(output).toContain('--client: expected kafkajs, platformatic or both, got "kafka"');
}, 60_000);

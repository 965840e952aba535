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
  // what the run made is gone again
  expect((await leftovers()).filter((x) => !before.includes(x))).toEqual([]);
}, 300_000);

test("bun run bench -- --tiny --sweep --client both: every producer setting against ProducerPerformance", async () => {
  const results = join(dir, "sweep.md");
  const { code, output } = await bench(["--tiny", "--sweep", "--client", "both", "--results", results]);
  if (code !== 0) console.error(output.slice(-4000));
  expect(code).toBe(0);
  const md = readFileSync(results, "utf8");
  for (const client of ["kafkajs", "platformatic"]) expect(md).toContain(client);
  expect(md).toContain("maxBatch 2000, linger 5 ms, none");
  expect(md).toContain("maxBatch 8000, linger 5 ms, gzip");
}, 300_000);

test("bun run bench/seed.ts: the initial seeder's timing runs", async () => {
  const proc = Bun.spawn([process.execPath, "run", "bench/seed.ts"], { cwd: ROOT, env: { ...process.env, RUNS: "1" }, stdout: "pipe" });
  const out = await new Response(proc.stdout).text();
  expect(await proc.exited).toBe(0);
  expect(out).toMatch(/initial seed \(10,000 users \+ 20,000 products.*median [\d.]+ s over 1 runs/);
}, 120_000);

test("a bad flag is refused in one line, before anything starts", async () => {
  const { code, output } = await bench(["--client", "kafka"]);
  expect(code).toBe(2);
  expect(output).toContain('--client: expected kafkajs, platformatic or both, got "kafka"');
}, 60_000);

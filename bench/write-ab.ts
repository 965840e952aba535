import { parseArgs } from "node:util";
import { selectProducts, selectUsers } from "../src/cache/reload.ts";
import { loadConfig } from "../src/config.ts";
import { connect, dropDatabase, ensureDatabase, type Sql } from "../src/db/client.ts";
import { listMigrations, migrate } from "../src/db/migrate.ts";
import { seedCatalogue } from "../src/db/seed.ts";
import { databaseUrl } from "./lib/db.ts";
import { generateOrders } from "./lib/orders.ts";
import { CLOCK_TICKS, cpuTicks } from "./lib/proc.ts";
import { appendResults, resultsHeader } from "./lib/results.ts";
import { resetOrders, writeMethod, type WriteMethod } from "./lib/writes.ts";

// `bun run bench/write-ab.ts --without 006_hot_counters [--rows 60000] [--rounds 3] [--record]`:
// the consumers' write path (insertOrders) and COPY on two databases side by side, one migrated
// without the named migration (A) and one with every migration (B), the same seeded catalogue and
// the same orders, in alternating rounds (A B B A …) so drift favours neither. Reports rows/s and
// CPU µs per row (PostgreSQL backends + this process) per side, and B/A pair by pair.

const { values: flags } = parseArgs({
  args: Bun.argv.slice(2),
  options: {
    without: { type: "string" },
    rows: { type: "string", default: "60000" },
    rounds: { type: "string", default: "3" },
    batch: { type: "string", default: "2000" },
    record: { type: "boolean", default: false },
  },
});
const without = flags.without;
if (!without || !listMigrations().some((m) => m.version === without)) {
  console.error(
    `--without: name a migration (${listMigrations()
      .map((m) => m.version)
      .join(", ")})`,
  );
  process.exit(2);
}
const rows = Number(flags.rows);
const rounds = Number(flags.rounds);
const batch = Number(flags.batch);
const LANES = 3;
const config = loadConfig();
const suffix = Date.now().toString(36);

async function side(label: string, migrations: ReturnType<typeof listMigrations>): Promise<{ url: string; sql: Sql }> {
  const url = databaseUrl(config.databaseUrl, `shopstream_bench_ab_${label}_${suffix}`);
  await ensureDatabase(url);
  const sql = connect(url, { max: LANES + 1 });
  await migrate(sql, migrations);
  await seedCatalogue(sql, { seed: "write-ab", users: 10_000, products: 20_000, now: new Date("2026-12-01T00:00:00Z") });
  await sql`vacuum analyze`;
  return { url, sql };
}

const a = await side(
  "a",
  listMigrations().filter((m) => m.version !== without),
);
const b = await side("b", listMigrations());
const figures: Record<"a" | "b", Record<WriteMethod, { rowsPerSec: number[]; cpuUs: number[] }>> = {
  a: { copy: { rowsPerSec: [], cpuUs: [] }, insertOrders: { rowsPerSec: [], cpuUs: [] } } as never,
  b: { copy: { rowsPerSec: [], cpuUs: [] }, insertOrders: { rowsPerSec: [], cpuUs: [] } } as never,
};
try {
  // the same orders on both sides: the cache split of side A's catalogue (both catalogues are equal)
  const snapshot = { users: await selectUsers(a.sql), products: await selectProducts(a.sql), generation: null };
  const orders = generateOrders(snapshot, "write-ab", rows, config.producerTopN);
  const ticks = async (sql: Sql) => {
    const pids = (await sql<{ pid: number }[]>`select pid from pg_stat_activity where datname = current_database()`).map((r) => r.pid);
    return [...pids, process.pid].reduce((s, pid) => s + (cpuTicks(pid) ?? 0), 0);
  };
  for (let round = 0; round < rounds; round++) {
    const order: ("a" | "b")[] = round % 2 === 0 ? ["a", "b"] : ["b", "a"];
    for (const method of ["insertOrders", "copy"] as const) {
      for (const s of order) {
        const { sql } = s === "a" ? a : b;
        await resetOrders(sql);
        const run = writeMethod(sql, method, orders, batch, LANES);
        const t0 = await ticks(sql);
        const started = performance.now();
        await run();
        const seconds = (performance.now() - started) / 1000;
        const cpuUs = ((((await ticks(sql)) - t0) / CLOCK_TICKS) * 1e6) / rows;
        figures[s][method].rowsPerSec.push(rows / seconds);
        figures[s][method].cpuUs.push(cpuUs);
        console.error(
          `round ${round + 1} ${method} ${s.toUpperCase()}: ${Math.round(rows / seconds)} rows/s, ${cpuUs.toFixed(1)} µs CPU per row`,
        );
      }
    }
  }
} finally {
  await a.sql.end();
  await b.sql.end();
  await dropDatabase(a.url);
  await dropDatabase(b.url);
}

const median = (xs: number[]) => [...xs].sort((p, q) => p - q)[Math.floor(xs.length / 2)] ?? Number.NaN;
const fmt = (n: number) => n.toLocaleString("en-US", { maximumFractionDigits: 0 });
const lines = [
  `| write path | A: without ${without}, rows/s | B: with it, rows/s | B/A per pair | A: µs CPU per row | B: µs CPU per row |`,
  "|---|---:|---:|---:|---:|---:|",
  ...(["insertOrders", "copy"] as const).map((m) => {
    const fa = figures.a[m];
    const fb = figures.b[m];
    const pairs = fb.rowsPerSec.map((v, i) => (v / (fa.rowsPerSec[i] ?? Number.NaN)).toFixed(2)).join(" / ");
    return `| ${m} | ${fmt(median(fa.rowsPerSec))} | ${fmt(median(fb.rowsPerSec))} | ${pairs} | ${median(fa.cpuUs).toFixed(1)} | ${median(fb.cpuUs).toFixed(1)} |`;
  }),
];
console.log(lines.join("\n"));
if (flags.record)
  appendResults(
    [
      resultsHeader(
        `Write path A/B: without and with ${without}`,
        `bun run bench/write-ab.ts --without ${without} --rows ${rows} --rounds ${rounds} --batch ${batch} --record`,
      ),
      `- ${fmt(rows)} orders, ${fmt(batch)} per statement × ${LANES} writers; medians over ${rounds} rounds, A and B alternating`,
      "",
      ...lines,
    ].join("\n"),
  );

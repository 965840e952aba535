import { join } from "node:path";
import { parseArgs } from "node:util";
import type { Sql } from "../src/db/client.ts";
import { copyChunks } from "../src/db/copy.ts";
import { recomputeGrades } from "../src/db/grades.ts";
import { seedCatalogue } from "../src/db/seed.ts";
import { columnNames, PRODUCTS, USERS } from "../src/db/tables.ts";
import { gradeCheckpoints, resolvePeriod } from "../src/historical/plan.ts";
import { EVENT_COPY_COLUMNS, ORDER_COPY_COLUMNS } from "../src/historical/writer.ts";
import { createTestDatabase } from "../support/db.ts";
import { peakRssMb } from "./lib/proc.ts";
import { appendResults, resultsHeader } from "./lib/results.ts";

// The historical year at --scale 20 (≈1,000,000 orders): `bun run historical` as a user runs it,
// in its own process, into a freshly seeded database. Then, in the same run, the references:
//   1. a plain COPY of exactly those order rows, then of their order_events rows (the lifecycle), into
//      the empty tables of a second database (same schema, indexes and foreign keys; same users and
//      products): the write alone;
//   2. the live updater's recomputeGrades at all 53 checkpoints on that copy, one after another: what
//      the year would cost if PostgreSQL computed every week's grades (the run writes the changes of
//      its in-memory window and checks them with the same SQL every four weeks), and a cross-check
//      that both write the same number of grade_history rows.
// ratio = COPY time / historical time (the aim: >= 0.6, generating costs less than writing).
//   bun run bench/historical.ts [--scale 20] [--year 2025] [--runs 1] [--record]

const { values: flags } = parseArgs({
  args: Bun.argv.slice(2),
  options: {
    scale: { type: "string", default: "20" },
    year: { type: "string", default: "2025" },
    runs: { type: "string", default: "1" },
    record: { type: "boolean", default: false },
  },
  strict: true,
});
const scale = Number(flags.scale);
const year = Number(flags.year);
const runs = Number(flags.runs);
const period = resolvePeriod({ year }, new Date());
const SEED = "42";
const CLI = join(import.meta.dir, "..", "src", "cli", "historical.ts");

interface Round {
  historicalS: number;
  wallS: number;
  cpuS: number;
  rssMb: number;
  orders: number;
  summary: string;
  phases: string;
  copyS: number;
  gradesS: number;
}

const rounds: Round[] = [];
for (let r = 0; r < runs; r++) {
  const round = await measure();
  console.error(
    `round ${r + 1}/${runs}: historical ${round.historicalS.toFixed(1)} s (peak RSS ${round.rssMb.toFixed(0)} MB), COPY ${round.copyS.toFixed(1)} s, grade SQL ${round.gradesS.toFixed(1)} s`,
  );
  rounds.push(round);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const hist = median(rounds.map((x) => x.historicalS));
const copy = median(rounds.map((x) => x.copyS));
const grades = median(rounds.map((x) => x.gradesS));
const orders = rounds[0]!.orders;
const per = (s: number) => Math.round(orders / s).toLocaleString("en-US");
const of = runs > 1 ? ` (median of ${runs}: ${rounds.map((x) => x.historicalS.toFixed(1)).join(", ")} s)` : "";
const lines = [
  `\`bun run historical --year ${year} --scale ${scale}\`: ${rounds[0]!.summary}; ${hist.toFixed(1)} s, ${per(hist)} orders/s${of}; ` +
    `process wall ${median(rounds.map((x) => x.wallS)).toFixed(1)} s, CPU ${median(rounds.map((x) => x.cpuS)).toFixed(1)} s, peak RSS ${Math.max(...rounds.map((x) => x.rssMb)).toFixed(0)} MB; phases ${rounds[0]!.phases}`,
  `reference 1, same run: plain COPY of the same ${orders.toLocaleString("en-US")} order rows and their order_events rows into empty tables (same schema, indexes, foreign keys): ${copy.toFixed(1)} s, ${per(copy)} rows/s`,
  `reference 2, same run: recomputeGrades at every checkpoint on that copy, one after another: ${grades.toFixed(1)} s, the same number of grade_history rows as the run`,
  `ratio COPY / historical: ${(copy / hist).toFixed(2)} (target >= 0.6); budget 120 s → ${(120 / hist).toFixed(1)}× under`,
];
for (const l of lines) console.log(l);

if (flags.record)
  appendResults(
    `${resultsHeader("Historical year", `bun run bench/historical.ts --scale ${scale} --year ${year} --runs ${runs} --record`, "shared, noisy")}\n${lines.map((l) => `- ${l}`).join("\n")}`,
  );

async function measure(): Promise<Round> {
  const a = await createTestDatabase("bench_hist");
  const b = await createTestDatabase("bench_hist_ref");
  try {
    const seeded = await seedCatalogue(a.sql, { seed: SEED, users: 10_000, products: 20_000, now: period.end });
    if (seeded.skipped) throw new Error("seed unexpectedly skipped");

    const started = performance.now();
    const child = Bun.spawn(["bun", "run", CLI, "--year", String(year), "--scale", String(scale), "--seed", SEED], {
      env: { ...process.env, DATABASE_URL: a.url },
      stdout: "pipe",
      stderr: "pipe",
    });
    // stderr carries the progress lines and warnings: shown as they come, kept for the checks
    const err = (async () => {
      const decoder = new TextDecoder();
      let text = "";
      for await (const chunk of child.stderr) {
        process.stderr.write(chunk);
        text += decoder.decode(chunk, { stream: true });
      }
      return text;
    })();
    // VmHWM of the running child: wait4's maxRSS also counts the fork before exec, i.e. this process
    let rssMb = 0;
    const poll = setInterval(() => {
      rssMb = peakRssMb(child.pid) ?? rssMb;
    }, 200);
    const out = await new Response(child.stdout).text();
    const exit = await child.exited;
    clearInterval(poll);
    if (exit !== 0) throw new Error(`historical exited ${exit}:\n${out}`);
    const wallS = (performance.now() - started) / 1000;
    const usage = child.resourceUsage();
    if (!usage) throw new Error("no resource usage for the historical process");
    const done = /done: (.+) in ([\d.]+) s \(/.exec(out);
    const phases = /time: (.+)$/m.exec(out);
    if (!done || !phases) throw new Error(`unexpected historical output:\n${out}`);
    if (/differed between/.test(await err)) throw new Error("in-memory and SQL grades differed (see the warning above)");
    const [{ n: orders }] = (await a.sql`select count(*)::int as n from orders`) as unknown as [{ n: number }];

    // untimed: the reference database gets the same users (as seeded: BRONZE) and products, and the order rows as COPY text
    for (const [table, cols] of [
      ["users", [...columnNames(USERS), "source"]],
      ["products", columnNames(PRODUCTS)],
    ] as const) {
      await copyChunks(b.sql, table, cols, await readCopy(a.sql, table, cols));
    }
    await b.sql`update users set grade = 'BRONZE', last_ordered_at = null`;
    await b.sql`vacuum analyze users`;
    const text = await readCopy(a.sql, "orders", ORDER_COPY_COLUMNS);
    const events = await readCopy(a.sql, "order_events", EVENT_COPY_COLUMNS);
    let t = performance.now();
    await copyChunks(b.sql, "orders", ORDER_COPY_COLUMNS, text);
    await copyChunks(b.sql, "order_events", EVENT_COPY_COLUMNS, events);
    const copyS = (performance.now() - t) / 1000;
    text.length = 0;
    events.length = 0;
    await b.sql`analyze orders`;
    t = performance.now();
    for (const at of gradeCheckpoints(period)) await recomputeGrades(b.sql, at, "historical");
    const gradesS = (performance.now() - t) / 1000;
    const [{ same }] =
      (await b.sql`select (select count(*) from grade_history)::int = ${(await a.sql`select count(*)::int as n from grade_history`)[0]!.n} as same`) as unknown as [
        { same: boolean },
      ];
    if (!same) throw new Error("the reference grade runs wrote a different number of grade_history rows");
    return {
      historicalS: Number(done[2]),
      wallS,
      cpuS: Number(usage.cpuTime.total) / 1e6,
      rssMb,
      orders,
      summary: done[1]!,
      phases: phases[1]!,
      copyS,
      gradesS,
    };
  } finally {
    await Promise.all([a.drop(), b.drop()]);
  }
}

async function readCopy(sql: Sql, table: string, cols: readonly string[]): Promise<Buffer[]> {
  const stream = await sql.unsafe(`copy ${table} (${cols.join(", ")}) to stdout`).readable();
  // 'data' events, not for await: iterating the postgres.js readable stalls under Bun
  const rows: Buffer[] = [];
  await new Promise<void>((resolve, reject) => {
    stream.on("data", (row: Buffer) => rows.push(row));
    stream.once("end", () => resolve());
    stream.once("error", reject);
  });
  // one buffer per row: join them into ~1 MB writes
  const chunks: Buffer[] = [];
  for (let i = 0; i < rows.length; i += 4096) chunks.push(Buffer.concat(rows.slice(i, i + 4096)));
  return chunks;
}

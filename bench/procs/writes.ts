import { connectRedis } from "../../src/cache/client.ts";
import { cacheKeys } from "../../src/cache/keys.ts";
import { readSnapshot } from "../../src/cache/snapshot.ts";
import { loadConfig } from "../../src/config.ts";
import { connect } from "../../src/db/client.ts";
import { generateOrders } from "../lib/orders.ts";
import { resetOrders, WRITE_METHODS, writeMethod, type WriteMethod } from "../lib/writes.ts";
import { CLOCK_TICKS, cpuTicks } from "../lib/proc.ts";
import { finish, jobFromEnv, type WritesJob, type WritesResult } from "./job.ts";

// The PostgreSQL write paths for the same rows (bench/lib/writes.ts), each into an empty orders table
// of a fresh clone of the bench database, in rounds whose order alternates so that neither a
// checkpoint nor a noisy neighbour favours one method.

const job = jobFromEnv<WritesJob>();
const config = loadConfig();
const redis = connectRedis(config.redisUrl);
const snapshot = await readSnapshot(redis, cacheKeys(job.cachePrefix));
redis.disconnect();
const orders = generateOrders(snapshot, job.seed, job.rows, config.producerTopN);
const sql = connect(job.databaseUrl, { max: job.lanes + 1 });
await sql`select 1`;

const samples: Record<WriteMethod, number[]> = { copy: [], unnest: [], multirow: [], insertOrders: [] };
const cpuUsPerRow: Record<WriteMethod, number[]> = { copy: [], unnest: [], multirow: [], insertOrders: [] };
// CPU of this database's backends plus this process: what a write path costs, whatever the neighbours do
const cpuTicksNow = async () => {
  const pids = (await sql<{ pid: number }[]>`select pid from pg_stat_activity where datname = current_database()`).map((r) => r.pid);
  return [...pids, process.pid].reduce((sum, pid) => sum + (cpuTicks(pid) ?? 0), 0);
};
for (let round = 0; round < job.rounds; round++) {
  const order = round % 2 === 0 ? [...WRITE_METHODS] : [...WRITE_METHODS].reverse();
  for (const method of order) {
    await resetOrders(sql);
    const run = writeMethod(sql, method, orders, job.maxBatch, job.lanes);
    const ticks0 = await cpuTicksNow();
    const t0 = performance.now();
    await run();
    const seconds = (performance.now() - t0) / 1000;
    cpuUsPerRow[method].push(((((await cpuTicksNow()) - ticks0) / CLOCK_TICKS) * 1e6) / orders.length);
    const [check] = await sql<{ n: number }[]>`select count(*)::int as n from orders`;
    if (check?.n !== orders.length) throw new Error(`${method} wrote ${check?.n} of ${orders.length} rows`);
    samples[method].push(orders.length / seconds);
    console.log(`PROGRESS ${method} ${Math.round(orders.length / seconds)}`);
  }
}
await sql.end();
finish<WritesResult>({ samples, cpuUsPerRow });

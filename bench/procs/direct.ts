import { connect } from "../../src/db/client.ts";
import { insertOrders } from "../../src/db/writers.ts";
import { BENCH_SCHEDULE } from "../lib/writes.ts";
import { loadConfig } from "../../src/config.ts";
import type { Order } from "../../src/domain/types.ts";
import { laneOf } from "../lib/lanes.ts";
import { finish, jobFromEnv, type DirectJob, type DirectResult, md5OfIds, pace } from "./job.ts";
import { generatorFromCache } from "./generator.ts";

// Kafka OFF: the same cache read and generator, writing the same orders straight to PostgreSQL with
// the consumers' batching — insertOrders, maxBatch rows per statement, one writer per share of users
// (as the three partitions and their three consumers), each on its own connection.

const job = jobFromEnv<DirectJob>();
const config = loadConfig();
const generator = await generatorFromCache(config, job);

const sql = connect(job.databaseUrl, { max: job.lanes });
await sql`select 1`;

interface Lane {
  queue: Order[];
  busy: boolean;
}
const lanes: Lane[] = Array.from({ length: job.lanes }, () => ({ queue: [], busy: false }));
let queued = 0;
let written = 0;
let batches = 0;
let writeMs = 0;
let failure: unknown = null;
let wake: (() => void) | null = null;
const notify = () => {
  const w = wake;
  wake = null;
  w?.();
};

// An idle writer takes what is queued, up to maxBatch, as a consumer's fetch returns what is there:
// at max rate the queue is always full, at a paced rate batches stay small and latency low.
function pump(lane: Lane): void {
  if (lane.busy || lane.queue.length === 0) return;
  const batch = lane.queue.splice(0, job.maxBatch);
  queued -= batch.length;
  lane.busy = true;
  const t0 = performance.now();
  insertOrders(sql, batch, { schedule: BENCH_SCHEDULE })
    .then(
      (r) => {
        writeMs += performance.now() - t0;
        if (r.missingRefs.length) failure ??= new Error(`${r.missingRefs.length} orders reference missing rows`);
        written += batch.length;
        batches++;
      },
      (err) => (failure ??= err),
    )
    .finally(() => {
      lane.busy = false;
      pump(lane);
      notify();
    });
}

const ids: string[] = [];
const cpu0 = process.cpuUsage();
const progress = setInterval(() => console.log(`PROGRESS ${written}`), 250);
const started = performance.now();
const highWater = job.lanes * job.maxBatch * 2;
for (let i = 0; i < job.count; i++) {
  if (job.rate) await pace(started, i, job.rate);
  const order = generator.next(new Date());
  ids.push(order.id);
  const lane = lanes[laneOf(order.user_id, lanes.length)] as Lane;
  lane.queue.push(order);
  queued++;
  pump(lane);
  while (queued >= highWater && !failure) await new Promise<void>((r) => (wake = r));
  if (failure) break;
}
for (const lane of lanes) pump(lane);
while (written < job.count && !failure) await new Promise<void>((r) => (wake = r));
const seconds = (performance.now() - started) / 1000;
clearInterval(progress);
if (failure) throw failure;
await sql.end();
const cpu = process.cpuUsage(cpu0);
finish<DirectResult>({
  count: written,
  seconds,
  tps: written / seconds,
  batches,
  writeMs,
  idsMd5: md5OfIds(ids),
  cpuSeconds: (cpu.user + cpu.system) / 1e6,
});

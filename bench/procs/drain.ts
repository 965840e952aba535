import { loadConfig } from "../../src/config.ts";
import { createKafkaClient } from "../../src/kafka/client.ts";
import { type DrainJob, type DrainResult, finish, jobFromEnv } from "./job.ts";

// The consumer side of the configured client alone (KAFKA_CLIENT), against Kafka's own
// ConsumerPerformance on the same topic: one consumer of a new group reads the whole topic through
// the port, batch by batch, committing each, and writes nothing anywhere.

const job = jobFromEnv<DrainJob>();
const client = await createKafkaClient(loadConfig(), "bench-drain");
const cpu0 = process.cpuUsage();
let read = 0;
let first = 0;
let done: () => void = () => {};
const all = new Promise<void>((r) => (done = r));
const consumer = await client.consume({
  group: job.group,
  topic: job.topic,
  onFatal: (err) => {
    console.error(err);
    process.exit(1);
  },
  onBatch: async (batch) => {
    first ||= performance.now();
    read += batch.messages.length;
    if (read >= job.count) done();
    return true;
  },
});
await all;
const seconds = (performance.now() - first) / 1000;
const cpu = process.cpuUsage(cpu0);
await consumer.stop();
finish<DrainResult>({ count: read, seconds, recordsPerSec: read / seconds, cpuSeconds: (cpu.user + cpu.system) / 1e6 });

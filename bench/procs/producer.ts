import { loadConfig } from "../../src/config.ts";
import { compressionOf, createKafka } from "../../src/kafka/client.ts";
import { encode } from "../../src/kafka/envelope.ts";
import { BatchingProducer } from "../../src/kafka/producer.ts";
import { topicNames } from "../../src/kafka/topics.ts";
import { jobFromEnv, finish, type ProducerJob, type ProducerResult, md5OfIds, pace } from "./job.ts";
import { generatorFromCache } from "./generator.ts";

// Kafka ON, producer side, as its own process: the shipped read of the Redis cache, the shipped
// OrderGenerator and envelope, the shipped BatchingProducer (acks=all, idempotent) — at max rate.
// `naive` is the reference: one awaited send() per order.

const job = jobFromEnv<ProducerJob>();
const config = loadConfig();
const generator = await generatorFromCache(config, job);

const kafka = createKafka(config, `bench-${job.mode}`);
const topic = topicNames(job.topicPrefix).topic("orders");
const ids: string[] = [];
const cpu0 = process.cpuUsage();
let started = 0;
let failed = 0;

if (job.mode === "naive") {
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: false });
  await producer.connect();
  started = performance.now();
  for (let i = 0; i < job.count; i++) {
    const order = generator.next(new Date());
    await producer.send({ topic, acks: -1, messages: [{ key: order.user_id, value: encode("orders", order) }] });
    ids.push(order.id);
  }
  await producer.disconnect();
} else {
  const producer = new BatchingProducer(kafka, {
    ...(job.maxBatch ? { maxBatch: job.maxBatch } : {}),
    ...(job.lingerMs !== undefined ? { lingerMs: job.lingerMs } : {}),
    compression: compressionOf(job.compression ?? config.kafkaCompression),
  });
  await producer.connect();
  // back-pressure: at most `window` orders generated but not yet acknowledged
  const window = job.window ?? 10_000;
  let outstanding = 0;
  let wake: (() => void) | null = null;
  const acked = () => {
    outstanding--;
    if (wake && outstanding <= window / 2) {
      wake();
      wake = null;
    }
  };
  const lost = (err: unknown) => {
    failed++;
    acked();
    if (failed === 1) console.error(`send failed: ${err instanceof Error ? err.message : err}`);
  };
  const progress = setInterval(() => console.log(`PROGRESS ${producer.acked}`), 250);
  started = performance.now();
  for (let i = 0; i < job.count; i++) {
    if (job.rate) await pace(started, i, job.rate);
    const order = generator.next(new Date());
    ids.push(order.id);
    outstanding++;
    producer.send(topic, { key: order.user_id, value: encode("orders", order) }).then(acked, lost);
    if (outstanding >= window) await new Promise<void>((r) => (wake = r));
  }
  await producer.flush();
  clearInterval(progress);
  await producer.close();
}

const seconds = (performance.now() - started) / 1000;
const cpu = process.cpuUsage(cpu0);
finish<ProducerResult>({
  count: job.count,
  failed,
  seconds,
  tps: job.count / seconds,
  idsMd5: md5OfIds(ids),
  cpuSeconds: (cpu.user + cpu.system) / 1e6,
});

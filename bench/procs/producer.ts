import { loadConfig } from "../../src/config.ts";
import { createKafkaClient } from "../../src/kafka/client.ts";
import { partitionFor } from "../../src/kafka/partitioner.ts";
import { BatchingProducer } from "../../src/kafka/batching-producer.ts";
import { topicNames } from "../../src/kafka/topics.ts";
import { jobFromEnv, finish, type ProducerJob, type ProducerResult, md5OfIds, pace } from "./job.ts";
import { fromCache } from "./generator.ts";
import { Rng } from "../../src/domain/random.ts";
import { BASELINE } from "../../src/domain/scenarios.ts";
import { describe } from "../../src/errors.ts";
import { openEventSerializer } from "../../src/schemas/open.ts";

// Kafka ON, producer side, as its own process: the shipped read of the Redis cache, the shipped
// OrderGenerator and envelope, the shipped BatchingProducer (acks=all, idempotent) — at max rate.
// `naive` is the reference: one awaited send() per order.

const job = jobFromEnv<ProducerJob>();
// with clicks, as `--clicks` does: the order schema's version that names each order's session
const config = loadConfig(process.env, job.clicks ? ["--clicks"] : []);
const { generator, clickstream } = await fromCache(config, job);

const client = await createKafkaClient({ ...config, kafkaCompression: job.compression ?? config.kafkaCompression }, `bench-${job.mode}`);
const topic = topicNames(job.topicPrefix).topic("orders");
// FORMAT: as the producer service writes, registering the schema first
const names = topicNames(job.topicPrefix);
const values = await openEventSerializer(config, names, job.clicks ? ["orders", "clicks", "users"] : ["orders"]);
// with clicks, each order's sessions as the producer service sends them (src/pipeline/shop-publisher.ts)
const clickRng = new Rng(`${job.seed}:clicks`);
let clicks = 0;
let signUps = 0;
let valueBytes = 0;
const encoded = (order: Parameters<typeof values.encode<"orders">>[1]) => {
  const value = values.encode("orders", order);
  valueBytes += value.length;
  return value;
};
const ids: string[] = [];
const cpu0 = process.cpuUsage();
let started = 0;
let failed = 0;

if (job.mode === "naive") {
  // one awaited send per order, through the same writer the batching producer's lanes use
  const writer = await client.writer();
  const admin = await client.admin();
  const partitions = (await admin.partitions(topic)).length;
  await admin.close();
  started = performance.now();
  for (let i = 0; i < job.count; i++) {
    const order = generator.next(new Date());
    await writer.send(
      topic,
      partitionFor(order.user_id, partitions, () => 0),
      [{ key: order.user_id, value: encoded(order) }],
    );
    ids.push(order.id);
  }
  await writer.close();
} else {
  const producer = new BatchingProducer(client, {
    ...(job.maxBatch ? { maxBatch: job.maxBatch } : {}),
    ...(job.lingerMs !== undefined ? { lingerMs: job.lingerMs } : {}),
  });
  await producer.connect();
  const lost = (err: unknown) => {
    failed++;
    if (failed === 1) console.error(`send failed: ${describe(err)}`);
  };
  const progress = setInterval(() => console.log(`PROGRESS ${producer.acked}`), 250);
  started = performance.now();
  for (let i = 0; i < job.count; i++) {
    if (job.rate) await pace(started, i, job.rate);
    // the producer's own back-pressure, as the producer service waits on it
    await producer.whenRoom();
    const drawn = generator.next(new Date());
    ids.push(drawn.id);
    const made = job.clicks ? clickstream.forOrder(clickRng, drawn, BASELINE) : null;
    const order = made ? { ...drawn, session_id: made.purchaseSession } : drawn;
    producer.send(topic, { key: order.user_id, value: encoded(order) }).catch(lost);
    if (made) {
      for (const u of made.signUps) producer.send(names.topic("users"), { key: u.id, value: values.encode("users", u) }).catch(lost);
      for (const c of made.clicks)
        producer.send(names.topic("clicks"), { key: c.session_id, value: values.encode("clicks", c) }).catch(lost);
      clicks += made.clicks.length;
      signUps += made.signUps.length;
    }
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
  valueBytes: valueBytes / job.count,
  ...(job.clicks ? { clicks, signUps } : {}),
});

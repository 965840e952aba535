import { CompressionTypes, type ICustomPartitioner, type Kafka, type Message, type Producer } from "kafkajs";

// kafkajs has no linger buffer of its own, and one awaited send() per message serialises every
// round trip. This producer accumulates messages and ships them with one sendBatch per linger tick
// (or as soon as maxBatch are queued), keeping up to maxInFlight batches on the wire; each caller's
// promise settles when its batch is acknowledged.
//
// Defaults measured on the 2-core bench machine (bench/RESULTS.md): 2,000 messages per batch keep
// each partition's record batch of ~600-byte orders well under the broker's 1 MB message limit (and
// kafkajs groups a batch by partition in time quadratic in its size: 4,000 costs 4× per message),
// and 3 batches in flight let the three brokers work in parallel — kafkajs' idempotent producer
// still sends one request per broker at a time, so the sequence numbers stay in order.

export interface BatchingProducerOptions {
  lingerMs?: number;
  maxBatch?: number;
  compression?: CompressionTypes;
  /** Cap on concurrently outstanding sendBatch requests (kafkajs keeps one produce request per broker). */
  maxInFlight?: number;
  /** Called once per acknowledged batch with the count per topic (metrics). */
  onAcked?: (topic: string, count: number) => void;
}

interface Pending {
  topic: string;
  message: Message;
  resolve: () => void;
  reject: (err: unknown) => void;
}

export class BatchingProducer {
  private readonly producer: Producer;
  private queue: Pending[] = [];
  private timer: ReturnType<typeof setTimeout> | null = null;
  private readonly inFlight = new Set<Promise<void>>();
  private inFlightMessages = 0;
  /** Messages handed to sendBatch so far, and up to which count the linger is skipped (flush). */
  private shipped = 0;
  private flushUpTo = 0;
  private lingerDue = false;
  private settledWaiters: (() => void)[] = [];
  private readonly lingerMs: number;
  private readonly maxBatch: number;
  private readonly compression: CompressionTypes;
  private readonly maxInFlight: number;
  private readonly onAcked?: (topic: string, count: number) => void;
  acked = 0;

  constructor(kafka: Kafka, opts: BatchingProducerOptions = {}) {
    // idempotent needs acks=all and at most 5 in-flight requests per connection; kafkajs enforces it
    // murmur2 key hashing, as the Java client: one user's orders land on one partition either way
    this.producer = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 5,
      allowAutoTopicCreation: false,
      createPartitioner: murmur2Partitioner,
    });
    this.lingerMs = opts.lingerMs ?? 5;
    this.maxBatch = opts.maxBatch ?? 2000;
    this.compression = opts.compression ?? CompressionTypes.None;
    this.maxInFlight = opts.maxInFlight ?? 3;
    this.onAcked = opts.onAcked;
  }

  async connect(): Promise<void> {
    await this.producer.connect();
  }

  /** Queues one message; resolves once Kafka acknowledged it with acks=all. */
  send(topic: string, message: Message): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ topic, message, resolve, reject });
      if (this.queue.length >= this.maxBatch) this.pump();
      else if (!this.timer) this.timer = setTimeout(this.lingerExpired, this.lingerMs);
    });
  }

  /** Messages accepted and not yet acknowledged (queued or on the wire). */
  get pending(): number {
    return this.queue.length + this.inFlightMessages;
  }

  /** Sends everything queued so far without waiting for the linger; resolves when those messages are settled. */
  async flush(): Promise<void> {
    const upTo = this.shipped + this.queue.length;
    this.flushUpTo = Math.max(this.flushUpTo, upTo);
    this.pump();
    while (this.shipped < upTo) await new Promise<void>((r) => this.settledWaiters.push(r));
    // every batch holding one of those messages is on the wire now (they ship in order)
    await Promise.allSettled([...this.inFlight]);
  }

  private readonly lingerExpired = () => {
    this.timer = null;
    this.lingerDue = true;
    this.pump();
  };

  /** Ships batches while there is room on the wire and a batch is due (full, lingered or flushed). */
  private pump(): void {
    while (this.inFlight.size < this.maxInFlight && this.queue.length > 0) {
      const due = this.queue.length >= this.maxBatch || this.lingerDue || this.shipped < this.flushUpTo;
      if (!due) break;
      const batch = this.queue.splice(0, this.maxBatch);
      this.lingerDue = false;
      this.shipped += batch.length;
      this.inFlightMessages += batch.length;
      const request: Promise<void> = this.ship(batch).finally(() => {
        this.inFlight.delete(request);
        this.inFlightMessages -= batch.length;
        this.pump();
        const waiters = this.settledWaiters;
        this.settledWaiters = [];
        for (const w of waiters) w();
      });
      this.inFlight.add(request);
    }
    if (this.queue.length === 0) {
      this.lingerDue = false;
      if (this.timer) {
        clearTimeout(this.timer);
        this.timer = null;
      }
    } else if (!this.timer && !this.lingerDue) {
      // what stays queued (a partial batch) becomes due one linger from now
      this.timer = setTimeout(this.lingerExpired, this.lingerMs);
    }
  }

  private async ship(batch: Pending[]): Promise<void> {
    const byTopic = new Map<string, Message[]>();
    for (const p of batch) {
      const list = byTopic.get(p.topic);
      if (list) list.push(p.message);
      else byTopic.set(p.topic, [p.message]);
    }
    try {
      await this.producer.sendBatch({
        acks: -1,
        compression: this.compression,
        topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })),
      });
      this.acked += batch.length;
      if (this.onAcked) for (const [topic, messages] of byTopic) this.onAcked(topic, messages.length);
      for (const p of batch) p.resolve();
    } catch (err) {
      for (const p of batch) p.reject(err);
    }
  }

  /** Flushes what is queued, then disconnects: nothing accepted is left behind. */
  async close(): Promise<void> {
    await this.flush();
    await Promise.allSettled([...this.inFlight]);
    await this.producer.disconnect();
  }
}

/**
 * kafkajs' DefaultPartitioner, same partition for every key (Java's murmur2, positive, modulo the
 * partition count), with murmur2 in 32-bit integer arithmetic: kafkajs computes it with BigInt-backed
 * 64-bit longs, which took a quarter of the producer's CPU at full rate. Only the low 32 bits ever
 * reach the result, so Math.imul gives the identical hash (checked in test/kafka/partitioner.test.ts).
 */
export const murmur2Partitioner: ICustomPartitioner = () => {
  const counters = new Map<string, number>();
  return ({ topic, partitionMetadata, message }) => {
    if (message.partition !== null && message.partition !== undefined) return message.partition;
    if (message.key !== null && message.key !== undefined) return (murmur2(message.key) & 0x7fffffff) % partitionMetadata.length;
    // no key: round robin over the partitions that have a leader, as kafkajs does
    const next = (counters.get(topic) ?? Math.floor(Math.random() * 0x7fffffff)) + 1;
    counters.set(topic, next);
    const available = partitionMetadata.filter((p) => p.leader >= 0);
    const pool = available.length > 0 ? available : partitionMetadata;
    return (pool[(next & 0x7fffffff) % pool.length] as { partitionId: number }).partitionId;
  };
};

const M = 0x5bd1e995;

/** Java's Utils.murmur2 (seed 0x9747b28c) over the key's bytes, as a signed 32-bit int. */
export function murmur2(key: Buffer | string): number {
  const data = Buffer.isBuffer(key) ? key : Buffer.from(String(key));
  const length = data.length;
  let h = (0x9747b28c ^ length) | 0;
  const words = length >>> 2;
  for (let i = 0; i < words; i++) {
    const j = i * 4;
    let k = (data[j] as number) | ((data[j + 1] as number) << 8) | ((data[j + 2] as number) << 16) | ((data[j + 3] as number) << 24);
    k = Math.imul(k, M);
    k ^= k >>> 24;
    k = Math.imul(k, M);
    h = Math.imul(h, M) ^ k;
  }
  const tail = length & ~3;
  const rest = length & 3;
  if (rest > 0) {
    if (rest === 3) h ^= (data[tail + 2] as number) << 16;
    if (rest >= 2) h ^= (data[tail + 1] as number) << 8;
    h ^= data[tail] as number;
    h = Math.imul(h, M);
  }
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h | 0;
}

import { CompressionTypes, Partitioners, type Kafka, type Message, type Producer } from "kafkajs";

// kafkajs has no linger buffer of its own, and one awaited send() per message serialises every
// round trip. This producer accumulates messages and ships them with one sendBatch per linger tick
// (or when maxBatch is reached); each caller's promise settles when its batch is acknowledged.

export interface BatchingProducerOptions {
  lingerMs?: number;
  maxBatch?: number;
  compression?: CompressionTypes;
  /** Cap on concurrently outstanding sendBatch requests (ordering is kept by the idempotent producer). */
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
  private inFlight = new Set<Promise<void>>();
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
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    this.lingerMs = opts.lingerMs ?? 5;
    this.maxBatch = opts.maxBatch ?? 2000;
    this.compression = opts.compression ?? CompressionTypes.None;
    this.maxInFlight = opts.maxInFlight ?? 1;
    this.onAcked = opts.onAcked;
  }

  async connect(): Promise<void> {
    await this.producer.connect();
  }

  /** Queues one message; resolves once Kafka acknowledged it with acks=all. */
  send(topic: string, message: Message): Promise<void> {
    return new Promise((resolve, reject) => {
      this.queue.push({ topic, message, resolve, reject });
      if (this.queue.length >= this.maxBatch) void this.flush();
      else if (!this.timer) this.timer = setTimeout(() => void this.flush(), this.lingerMs);
    });
  }

  get pending(): number {
    return this.queue.length;
  }

  /** Sends everything queued so far; resolves when those messages are acknowledged. */
  async flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    while (this.inFlight.size >= this.maxInFlight) await Promise.race(this.inFlight);
    const batch = this.queue.splice(0, this.maxBatch);
    if (batch.length === 0) {
      await Promise.all(this.inFlight);
      return;
    }
    const request = this.ship(batch);
    this.inFlight.add(request);
    request.finally(() => this.inFlight.delete(request));
    if (this.queue.length > 0) await this.flush();
    await request;
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
    await Promise.allSettled(this.inFlight);
    await this.producer.disconnect();
  }
}

import { CompressionTypes, type Admin, type ICustomPartitioner, type Kafka, type Message, type Producer } from "kafkajs";
import { describe, StormLog, type Logger } from "../log.ts";

// kafkajs has no linger buffer of its own, and one awaited send() per message serialises every
// round trip. This producer accumulates messages and ships them with one sendBatch per linger
// tick (or as soon as maxBatch are queued); each caller's promise settles when Kafka acknowledged
// its message with acks=all.
//
// It is built to survive broker loss (docs/design.md, "Faults"):
// - Messages are routed to partitions here (Java's murmur2, so keys land where any client puts
//   them) and each topic-partition has its own lane: one idempotent kafkajs producer with at most
//   one request in flight, to that partition's leader alone (a dead leader stalls its own lane
//   and no other). kafkajs' idempotent producer rewinds its sequence numbers when a request
//   fails; with several requests in flight for one partition that corrupts the sequence
//   (OUT_OF_ORDER_SEQUENCE_NUMBER) for good. One request per partition keeps the three brokers
//   working in parallel and the sequence always right.
// - A batch that is not acknowledged is never dropped: the lane re-creates its producer (a fresh
//   producer id, so no poisoned sequence or fenced epoch survives) and resends the same batch with
//   backoff until it is acknowledged. A resend may duplicate records that did reach Kafka; the
//   consumers write idempotently by id, so PostgreSQL stays exactly once.
// - The buffer is bounded: whenRoom() makes generators wait while `capacity` messages are
//   outstanding, so an outage costs throughput, never memory or data.
// - Failures are logged as summaries per kind (StormLog), never one line per message.

export interface ProducerHooks {
  /** Once per acknowledged batch, with the count per topic. */
  onAcked?(topic: string, count: number): void;
  /** Once per failed attempt, with the number of messages to resend. */
  onRetry?(count: number): void;
  /** Each time a lane's kafkajs producer is replaced. */
  onRecreate?(): void;
}

export interface BatchingProducerOptions extends ProducerHooks {
  lingerMs?: number;
  maxBatch?: number;
  /** Key + value bytes per batch at most: each partition's record batch must stay under the broker's 1 MB limit. */
  maxBatchBytes?: number;
  compression?: CompressionTypes;
  /** Messages outstanding (queued or on the wire) beyond which whenRoom() waits. */
  capacity?: number;
  log?: Logger;
}

interface Pending {
  seq: number;
  /** performance.now() when queued: the linger runs from the oldest message of a batch. */
  at: number;
  bytes: number;
  topic: string;
  message: Message;
  resolve: () => void;
  reject: (err: unknown) => void;
}

interface Lane {
  /** "topic/partition" */
  name: string;
  queue: Pending[];
  /** Key + value bytes of the queue. */
  queuedBytes: number;
  inFlight: Pending[];
  producer: Producer | null;
  wake: (() => void) | null;
  loop: Promise<void> | null;
}

const BACKOFF_MS = { first: 100, max: 5000 };

export class BatchingProducer {
  private readonly lanes = new Map<string, Lane>();
  private readonly partitionCounts = new Map<string, number>();
  /** Messages of topics whose partition count is still being looked up, in send order. */
  private readonly unrouted = new Map<string, Pending[]>();
  private readonly roundRobin = new Map<string, number>();
  private admin: Admin | null = null;
  private seq = 0;
  private outstanding = 0;
  private flushing = 0;
  private closing = false;
  private abandoned: Error | null = null;
  /** Each returns true once its condition holds and it has resolved its caller. */
  private waiters: (() => boolean)[] = [];
  private readonly lingerMs: number;
  private readonly maxBatch: number;
  private readonly maxBatchBytes: number;
  private readonly compression: CompressionTypes;
  readonly capacity: number;
  private readonly storm: StormLog;
  acked = 0;
  retries = 0;
  recreations = 0;

  constructor(
    private readonly kafka: Kafka,
    private readonly opts: BatchingProducerOptions = {},
  ) {
    // Defaults measured on the 2-core bench machine (bench/RESULTS.md). A lane's batch goes to one
    // partition, so the byte cap keeps its record batch under the broker's 1 MB message.max.bytes
    // (about 1,200 orders of ~600 bytes).
    this.lingerMs = opts.lingerMs ?? 5;
    this.maxBatch = opts.maxBatch ?? 2000;
    this.maxBatchBytes = opts.maxBatchBytes ?? 768 * 1024;
    this.compression = opts.compression ?? CompressionTypes.None;
    this.capacity = opts.capacity ?? 50_000;
    const log = opts.log;
    this.storm = new StormLog((line) => (log ? log.warn(line) : console.warn(line)));
  }

  /** Checks that the cluster answers (lanes connect their own producers on first use). */
  async connect(): Promise<void> {
    this.admin = this.kafka.admin();
    await this.admin.connect();
  }

  /** Queues one message; resolves once Kafka acknowledged it with acks=all. */
  send(topic: string, message: Message): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.abandoned) return reject(this.abandoned);
      const bytes = sizeOf(message.value) + sizeOf(message.key);
      const p: Pending = { seq: this.seq++, at: performance.now(), bytes, topic, message, resolve, reject };
      this.outstanding++;
      const waiting = this.unrouted.get(topic);
      if (waiting) waiting.push(p);
      else if (this.partitionCounts.has(topic)) this.route(p);
      else {
        this.unrouted.set(topic, [p]);
        void this.lookUpPartitions(topic);
      }
    });
  }

  /** Messages accepted and not yet acknowledged (queued or on the wire). */
  get pending(): number {
    return this.outstanding;
  }

  /**
   * Resolves at once while fewer than `capacity` messages are outstanding, else when there is room,
   * or when `signal` aborts: a shutdown does not wait for Kafka to come back (the caller checks
   * the signal before it sends anything more).
   */
  whenRoom(signal?: AbortSignal): Promise<void> {
    const room = () => this.outstanding < this.capacity || this.abandoned !== null || signal?.aborted === true;
    if (room()) return Promise.resolve();
    return new Promise((resolve) => {
      const onAbort = () => this.notify();
      signal?.addEventListener("abort", onAbort, { once: true });
      this.waiters.push(() => {
        if (!room()) return false;
        signal?.removeEventListener("abort", onAbort);
        resolve();
        return true;
      });
    });
  }

  /** Sends everything queued so far without waiting for the linger; resolves when those messages are settled. */
  async flush(): Promise<void> {
    const upTo = this.seq;
    this.flushing++;
    try {
      for (const lane of this.lanes.values()) lane.wake?.();
      while (!this.settledBelow(upTo))
        await new Promise<void>((r) =>
          this.waiters.push(() => {
            if (!this.settledBelow(upTo)) return false;
            r();
            return true;
          }),
        );
    } finally {
      this.flushing--;
    }
  }

  /**
   * Flushes what is queued and disconnects. Messages still unacknowledged after `timeoutMs` (the
   * cluster is gone) are rejected; returns how many, so that the caller can say so and fail.
   */
  async close(timeoutMs = 30_000): Promise<number> {
    this.closing = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const gaveUp = await Promise.race([
      this.flush().then(() => false),
      new Promise<boolean>((r) => (timer = setTimeout(() => r(true), timeoutMs))),
    ]);
    clearTimeout(timer);
    const lost = gaveUp ? this.abandon(new Error(`not acknowledged within ${timeoutMs / 1000} s of shutdown`)) : 0;
    for (const lane of this.lanes.values()) lane.wake?.();
    if (!gaveUp) await Promise.all([...this.lanes.values()].map((l) => l.loop));
    await Promise.allSettled([...[...this.lanes.values()].map((l) => l.producer?.disconnect()), this.admin?.disconnect()]);
    this.storm.close();
    return lost;
  }

  private abandon(reason: Error): number {
    this.abandoned = reason;
    let lost = 0;
    const fail = (items: Pending[]) => {
      for (const p of items.splice(0)) {
        p.reject(reason);
        lost++;
      }
    };
    for (const lane of this.lanes.values()) {
      fail(lane.queue);
      fail(lane.inFlight);
    }
    for (const items of this.unrouted.values()) fail(items);
    this.outstanding = 0;
    this.notify();
    return lost;
  }

  private settledBelow(seq: number): boolean {
    if (this.abandoned) return true;
    for (const items of this.unrouted.values()) if ((items[0]?.seq ?? Infinity) < seq) return false;
    return [...this.lanes.values()].every((l) => Math.min(l.inFlight[0]?.seq ?? Infinity, l.queue[0]?.seq ?? Infinity) >= seq);
  }

  private notify(): void {
    this.waiters = this.waiters.filter((w) => !w());
  }

  private async lookUpPartitions(topic: string): Promise<void> {
    for (let attempt = 1; !this.abandoned; attempt++) {
      try {
        this.admin ??= this.kafka.admin();
        await this.admin.connect();
        const meta = await this.admin.fetchTopicMetadata({ topics: [topic] });
        const n = meta.topics[0]?.partitions.length ?? 0;
        if (n === 0) throw new Error(`topic ${topic} has no partitions`);
        this.partitionCounts.set(topic, n);
        const waiting = this.unrouted.get(topic) ?? [];
        this.unrouted.delete(topic);
        for (const p of waiting) this.route(p);
        return;
      } catch (err) {
        this.storm.note(describe(err), `cannot look up the partitions of ${topic} (retrying):`);
        await this.backoff(attempt);
      }
    }
  }

  private route(p: Pending): void {
    const n = this.partitionCounts.get(p.topic) as number;
    const partition = p.message.partition ?? partitionFor(p.message.key, n, () => this.nextRoundRobin(p.topic));
    p.message = { ...p.message, partition };
    const name = `${p.topic}/${partition}`;
    let lane = this.lanes.get(name);
    if (!lane) this.lanes.set(name, (lane = { name, queue: [], queuedBytes: 0, inFlight: [], producer: null, wake: null, loop: null }));
    lane.queue.push(p);
    lane.queuedBytes += p.bytes;
    lane.loop ??= this.runLane(lane);
    if (lane.queue.length === 1 || this.full(lane)) lane.wake?.();
  }

  private nextRoundRobin(topic: string): number {
    const next = (this.roundRobin.get(topic) ?? Math.floor(Math.random() * 0x7fffffff)) + 1;
    this.roundRobin.set(topic, next);
    return next & 0x7fffffff;
  }

  /** One lane: ships its queue a batch at a time, each one acknowledged before the next leaves. */
  private async runLane(lane: Lane): Promise<void> {
    while (!this.abandoned) {
      const head = lane.queue[0];
      if (!head) {
        if (this.closing) break;
        await new Promise<void>((r) => (lane.wake = r));
        continue;
      }
      // linger: a partial batch gets lingerMs from its oldest message to fill up
      const wait = head.at + this.lingerMs - performance.now();
      if (wait > 0 && !this.full(lane) && this.flushing === 0 && !this.closing) {
        await new Promise<void>((r) => {
          const timer = setTimeout(r, wait);
          lane.wake = () => {
            clearTimeout(timer);
            r();
          };
        });
        continue;
      }
      lane.wake = null;
      lane.inFlight = this.takeBatch(lane);
      await this.deliver(lane, lane.inFlight);
      lane.inFlight = [];
      this.notify();
    }
    lane.loop = null;
  }

  private full(lane: Lane): boolean {
    return lane.queue.length >= this.maxBatch || lane.queuedBytes >= this.maxBatchBytes;
  }

  /** The oldest messages of the lane, up to maxBatch and maxBatchBytes (at least one). */
  private takeBatch(lane: Lane): Pending[] {
    let n = 0;
    let bytes = 0;
    while (n < lane.queue.length && n < this.maxBatch) {
      const next = (lane.queue[n] as Pending).bytes;
      if (n > 0 && bytes + next > this.maxBatchBytes) break;
      bytes += next;
      n++;
    }
    lane.queuedBytes -= bytes;
    return lane.queue.splice(0, n);
  }

  /**
   * Sends one batch until it is acknowledged (or the producer is abandoned at shutdown). A batch the
   * broker finds too large is sent as two halves; a single message too large for the broker can
   * never be delivered and is rejected to its caller.
   */
  private async deliver(lane: Lane, batch: Pending[]): Promise<void> {
    const byTopic = new Map<string, Message[]>();
    for (const p of batch) {
      const list = byTopic.get(p.topic);
      if (list) list.push(p.message);
      else byTopic.set(p.topic, [p.message]);
    }
    const topicMessages = [...byTopic].map(([topic, messages]) => ({ topic, messages }));
    for (let attempt = 1; ; attempt++) {
      if (this.abandoned) return; // rejected at shutdown already
      try {
        lane.producer ??= await this.newProducer();
        // close() gave up while this producer was connecting, and disconnected the others without it
        if (this.abandoned) return await this.dropProducer(lane);
        await lane.producer.sendBatch({ acks: -1, compression: this.compression, topicMessages });
      } catch (err) {
        if (this.abandoned) return;
        if (errorName(err) === "MESSAGE_TOO_LARGE" || errorName(rootCause(err)) === "MESSAGE_TOO_LARGE") {
          if (batch.length > 1) {
            const mid = batch.length >>> 1;
            await this.deliver(lane, batch.slice(0, mid));
            await this.deliver(lane, batch.slice(mid));
          } else {
            this.outstanding--;
            this.storm.note(
              describe(err),
              `a message for ${lane.name} is larger than the broker accepts (message.max.bytes) and was rejected:`,
            );
            (batch[0] as Pending).reject(err);
          }
          return;
        }
        this.retries += batch.length;
        this.opts.onRetry?.(batch.length);
        this.storm.note(
          `${errorName(err)}: ${describe(err)}`,
          `a batch of ${batch.length} message(s) for ${lane.name} was not acknowledged; re-creating the producer and resending:`,
          batch.length,
        );
        await this.recreate(lane);
        await this.backoff(attempt);
        if (this.abandoned) return;
        continue;
      }
      if (this.abandoned) return; // rejected at shutdown already
      this.acked += batch.length;
      this.outstanding -= batch.length;
      if (this.opts.onAcked) for (const [topic, messages] of byTopic) this.opts.onAcked(topic, messages.length);
      for (const p of batch) p.resolve();
      return;
    }
  }

  private async newProducer(): Promise<Producer> {
    const producer = this.kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      createPartitioner: murmur2Partitioner,
      // a few quick retries inside kafkajs (a leader moving); past them the lane re-creates the
      // producer and resends, which also clears any sequence state a failure left behind
      retry: { retries: 5, initialRetryTime: 100, maxRetryTime: 2000 },
    });
    try {
      await producer.connect();
    } catch (err) {
      await producer.disconnect().catch(() => undefined);
      throw err;
    }
    return producer;
  }

  private async recreate(lane: Lane): Promise<void> {
    if (!lane.producer) return;
    this.recreations++;
    this.opts.onRecreate?.();
    await this.dropProducer(lane);
  }

  private async dropProducer(lane: Lane): Promise<void> {
    const old = lane.producer;
    lane.producer = null;
    await old?.disconnect().catch(() => undefined);
  }

  private backoff(attempt: number): Promise<void> {
    const ms = Math.min(BACKOFF_MS.max, BACKOFF_MS.first * 2 ** (attempt - 1));
    return new Promise((r) => setTimeout(r, ms * (0.75 + Math.random() * 0.5)));
  }
}

function rootCause(err: unknown): unknown {
  let e = err as { cause?: unknown; originalError?: unknown } | null;
  for (let i = 0; i < 5 && e && (e.cause ?? e.originalError); i++) e = (e.cause ?? e.originalError) as typeof e;
  return e;
}

function sizeOf(v: Message["value"] | Message["key"]): number {
  if (v === null || v === undefined) return 0;
  return typeof v === "string" ? Buffer.byteLength(v) : v.length;
}

function errorName(err: unknown): string {
  const type = (err as { type?: unknown }).type;
  return typeof type === "string" ? type : err instanceof Error ? err.name : "Error";
}

/** The partition Java's default partitioner picks for a key: murmur2, positive, modulo the count. */
export function partitionFor(key: Message["key"], partitions: number, roundRobin: () => number): number {
  if (key !== null && key !== undefined) return (murmur2(key) & 0x7fffffff) % partitions;
  return roundRobin() % partitions;
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

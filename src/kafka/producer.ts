import { bestEffort, describe, ShopstreamError } from "../errors.ts";
import { StormLog, type Logger } from "../log.ts";
import { backoffMs, sleep } from "../retry.ts";
import { partitionFor } from "./partitioner.ts";
import type { KafkaAdmin, KafkaClient, OutgoingMessage, PartitionWriter } from "./port.ts";
import { classifySend } from "./send-errors.ts";

// No Kafka client we run on lingers between sends the way Java's producer does, and one awaited
// send() per message serialises every round trip. This producer accumulates messages and ships
// them a batch per partition per linger tick (or as soon as maxBatch are queued); each caller's
// promise settles when Kafka acknowledged its message with acks=all.
//
// It is built to survive broker loss (docs/design.md, "Faults"):
// - Messages are routed to partitions here (Java's murmur2, so keys land where any client puts
//   them) and each topic-partition has its own lane: one idempotent writer (port.ts) with at most
//   one request in flight, to that partition's leader alone (a dead leader stalls its own lane and
//   no other). An idempotent producer's sequence numbers are only safe for batches sent one after
//   the other: kafkajs rewinds them when a request fails, and with several requests in flight for
//   one partition that corrupts the sequence (OUT_OF_ORDER_SEQUENCE_NUMBER) for good. One request
//   per partition keeps the three brokers working in parallel and the sequence always right.
// - A batch that is not acknowledged is never dropped: the lane closes its writer (a fresh
//   producer id next time, so no poisoned sequence or fenced epoch survives) and resends the same
//   batch with backoff until it is acknowledged. A resend may duplicate records that did reach
//   Kafka; the consumers write idempotently by id, so PostgreSQL stays exactly once.
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
  partition?: number;
  message: OutgoingMessage;
  resolve: () => void;
  reject: (err: unknown) => void;
}

interface Lane {
  /** "topic/partition" */
  name: string;
  topic: string;
  partition: number;
  queue: Pending[];
  /** Key + value bytes of the queue. */
  queuedBytes: number;
  inFlight: Pending[];
  writer: PartitionWriter | null;
  wake: (() => void) | null;
  loop: Promise<void> | null;
}

const BACKOFF = { firstMs: 100, maxMs: 5000 };

export class BatchingProducer {
  private readonly lanes = new Map<string, Lane>();
  private readonly partitionCounts = new Map<string, number>();
  /** Messages of topics whose partition count is still being looked up, in send order. */
  private readonly unrouted = new Map<string, Pending[]>();
  private readonly roundRobin = new Map<string, number>();
  private admin: KafkaAdmin | null = null;
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
  readonly capacity: number;
  private readonly storm: StormLog;
  acked = 0;
  retries = 0;
  recreations = 0;

  constructor(
    private readonly client: KafkaClient,
    private readonly opts: BatchingProducerOptions = {},
  ) {
    // Defaults measured on the 2-core bench machine (bench/RESULTS.md). A lane's batch goes to one
    // partition, so the byte cap keeps its record batch under the broker's 1 MB message.max.bytes
    // (about 1,200 orders of ~600 bytes).
    this.lingerMs = opts.lingerMs ?? 5;
    this.maxBatch = opts.maxBatch ?? 2000;
    this.maxBatchBytes = opts.maxBatchBytes ?? 768 * 1024;
    // 10,000 outstanding keep every lane's next batch full at full rate (0.25 s at 40,000/s) while
    // bounding what an outage holds in memory; more only grows the heap (bench/RESULTS.md, "Memory")
    this.capacity = opts.capacity ?? 10_000;
    const log = opts.log;
    this.storm = new StormLog((line) => (log ? log.warn(line) : console.warn(line)));
  }

  /** Checks that the cluster answers (lanes open their own writers on first use). */
  async connect(): Promise<void> {
    this.admin = await this.client.admin();
  }

  /** Queues one message (to `partition`, or where its key belongs); resolves once Kafka acknowledged it with acks=all. */
  send(topic: string, message: OutgoingMessage, partition?: number): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.abandoned) return reject(this.abandoned);
      // close() flushes what was queued before it; a later message would wait for a lane that has stopped
      if (this.closing) return reject(new ShopstreamError(`send() to ${topic} after close(): not sent`));
      const bytes = sizeOf(message.value) + sizeOf(message.key);
      const p: Pending = { seq: this.seq++, at: performance.now(), bytes, topic, partition, message, resolve, reject };
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
    await Promise.allSettled([...[...this.lanes.values()].map((l) => l.writer?.close()), this.admin?.close()]);
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
        this.admin ??= await this.client.admin();
        const n = (await this.admin.partitions(topic)).length;
        if (n === 0) throw new Error(`topic ${topic} has no partitions`);
        this.partitionCounts.set(topic, n);
        const waiting = this.unrouted.get(topic) ?? [];
        this.unrouted.delete(topic);
        for (const p of waiting) this.route(p);
        return;
      } catch (err) {
        this.storm.note(describe(err), `cannot look up the partitions of ${topic} (retrying):`);
        await sleep(backoffMs(attempt, BACKOFF));
      }
    }
  }

  private route(p: Pending): void {
    const n = this.partitionCounts.get(p.topic) as number;
    const partition = p.partition ?? partitionFor(p.message.key, n, () => this.nextRoundRobin(p.topic));
    const name = `${p.topic}/${partition}`;
    let lane = this.lanes.get(name);
    if (!lane)
      this.lanes.set(
        name,
        (lane = { name, topic: p.topic, partition, queue: [], queuedBytes: 0, inFlight: [], writer: null, wake: null, loop: null }),
      );
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
    const messages = batch.map((p) => p.message);
    for (let attempt = 1; ; attempt++) {
      if (this.abandoned) return; // rejected at shutdown already
      try {
        lane.writer ??= await this.client.writer();
        // close() gave up while this writer was connecting, and closed the others without it
        if (this.abandoned) return await this.dropWriter(lane);
        await lane.writer.send(lane.topic, lane.partition, messages);
      } catch (err) {
        if (this.abandoned) return;
        if (classifySend(this.client.errorNames(err)) === "too-large") {
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
          describe(err),
          `a batch of ${batch.length} message(s) for ${lane.name} was not acknowledged; opening a new writer and resending:`,
          batch.length,
        );
        await this.recreate(lane);
        await sleep(backoffMs(attempt, BACKOFF));
        if (this.abandoned) return;
        continue;
      }
      if (this.abandoned) return; // rejected at shutdown already
      this.acked += batch.length;
      this.outstanding -= batch.length;
      this.opts.onAcked?.(lane.topic, batch.length);
      for (const p of batch) p.resolve();
      return;
    }
  }

  private async recreate(lane: Lane): Promise<void> {
    if (!lane.writer) return;
    this.recreations++;
    this.opts.onRecreate?.();
    await this.dropWriter(lane);
  }

  private async dropWriter(lane: Lane): Promise<void> {
    const old = lane.writer;
    lane.writer = null;
    await bestEffort(old?.close());
  }
}

function sizeOf(v: OutgoingMessage["value"] | OutgoingMessage["key"]): number {
  if (v === null || v === undefined) return 0;
  return typeof v === "string" ? Buffer.byteLength(v) : v.length;
}

import { ShopstreamError } from "../errors.ts";
import { KAFKA_DEFAULTS } from "../kafka-defaults.ts";
import { StormLog, type Logger } from "../log.ts";
import { type Delivered, Lane, type LaneHost, type Pending } from "./lane.ts";
import { partitionFor } from "./partitioner.ts";
import type { KafkaClient, OutgoingMessage } from "./port.ts";
import { SendRejected } from "./send-errors.ts";
import { TopicMetadata } from "./topic-metadata.ts";

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
// - A batch that is not acknowledged is never dropped for a transient failure (a broker or leader
//   away, too few replicas, a timeout): the lane closes its writer (a fresh producer id next time,
//   so no poisoned sequence or fenced epoch survives) and resends the same batch with backoff until
//   it is acknowledged. A resend may duplicate records that did reach Kafka; the consumers write
//   idempotently by id, so PostgreSQL stays exactly once.
// - What Kafka can never take is rejected to its caller with a SendRejected (src/kafka/send-errors.ts):
//   a record too large or invalid, a topic the cluster refuses, a topic missing for longer than
//   missingTopicMs. Partition counts are looked at again (src/kafka/topic-metadata.ts), so keys
//   spread over partitions added while the producer runs.
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
  /** Messages rejected for good (never sent), with the kind of SendRejected. */
  onRejected?(topic: string, count: number, kind: SendRejected["kind"]): void;
}

export interface BatchingProducerOptions extends ProducerHooks {
  lingerMs?: number;
  maxBatch?: number;
  /** Key + value bytes per batch at most: each partition's record batch must stay under the broker's 1 MB limit. */
  maxBatchBytes?: number;
  /** Messages outstanding (queued or on the wire) beyond which whenRoom() waits. */
  capacity?: number;
  /** Between looks at the partition counts (KAFKA_METADATA_REFRESH_S). */
  metadataRefreshMs?: number;
  /** How long sends to a missing topic wait for it before they are rejected (KAFKA_MISSING_TOPIC_S). */
  missingTopicMs?: number;
  log?: Logger;
}

const P = KAFKA_DEFAULTS.producer;

export class BatchingProducer {
  private readonly lanes = new Map<string, Lane>();
  private readonly topics: TopicMetadata<Pending>;
  private readonly roundRobin = new Map<string, number>();
  private seq = 0;
  private outstanding = 0;
  private flushing = 0;
  private closing = false;
  private abandoned: Error | null = null;
  /** Each returns true once its condition holds and it has resolved its caller. */
  private waiters: (() => boolean)[] = [];
  readonly capacity: number;
  private readonly storm: StormLog;
  private readonly host: LaneHost;
  acked = 0;
  retries = 0;
  recreations = 0;
  rejected = 0;

  constructor(
    client: KafkaClient,
    private readonly opts: BatchingProducerOptions = {},
  ) {
    // the defaults and why (src/kafka-defaults.ts); a service sets them from its config
    const lingerMs = opts.lingerMs ?? P.lingerMs;
    const maxBatch = opts.maxBatch ?? P.batchMessages;
    const maxBatchBytes = opts.maxBatchBytes ?? P.batchBytes;
    this.capacity = opts.capacity ?? P.bufferMessages;
    const log = opts.log;
    this.storm = new StormLog((line) => (log ? log.warn(line) : console.warn(line)));
    this.topics = new TopicMetadata<Pending>(client, {
      refreshMs: opts.metadataRefreshMs ?? P.metadataRefreshS * 1000,
      missingTopicMs: opts.missingTopicMs ?? P.missingTopicS * 1000,
      storm: this.storm,
      route: (p) => this.route(p),
      reject: (items, why) => this.reject(items, why),
      lookedUp: (topic) => this.lookedUp(topic),
    });
    this.host = {
      client,
      topics: this.topics,
      storm: this.storm,
      lingerMs,
      maxBatch,
      maxBatchBytes,
      abandoned: () => this.abandoned !== null,
      closing: () => this.closing,
      flushing: () => this.flushing > 0,
      acked: (topic, partition, batch, base) => {
        this.acked += batch.length;
        this.outstanding -= batch.length;
        opts.onAcked?.(topic, batch.length);
        for (let i = 0; i < batch.length; i++) (batch[i] as Pending).resolve({ partition, offset: base === null ? null : base + i });
      },
      retried: (count) => {
        this.retries += count;
        opts.onRetry?.(count);
      },
      recreated: () => {
        this.recreations++;
        opts.onRecreate?.();
      },
      reject: (items, why) => this.reject(items, why),
      route: (p) => this.route(p),
      settled: () => this.notify(),
    };
  }

  /** Checks that the cluster answers (lanes open their own writers on first use). */
  async connect(): Promise<void> {
    await this.topics.connect();
  }

  /** Queues one message (to `partition`, or where its key belongs); resolves once Kafka acknowledged it with acks=all, to where it landed. */
  send(topic: string, message: OutgoingMessage, partition?: number): Promise<Delivered> {
    return new Promise((resolve, reject) => {
      if (this.abandoned) return reject(this.abandoned);
      // close() flushes what was queued before it; a later message would wait for a lane that has stopped
      if (this.closing) return reject(new ShopstreamError(`send() to ${topic} after close(): not sent`));
      const bytes = sizeOf(message.value) + sizeOf(message.key);
      const p: Pending = { seq: this.seq++, at: performance.now(), bytes, topic, partition, message, resolve, reject };
      this.outstanding++;
      this.topics.submit(topic, p);
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
      for (const lane of this.lanes.values()) lane.wake();
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
   * cluster is gone), or when `giveUp` aborts (a forced stop), are rejected; returns how many, so
   * that the caller can say so and fail.
   */
  async close(timeoutMs: number = P.closeTimeoutMs, giveUp?: AbortSignal): Promise<number> {
    this.closing = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let onGiveUp = () => {};
    const gaveUp = await Promise.race([
      this.flush().then(() => false),
      new Promise<boolean>((r) => {
        timer = setTimeout(() => r(true), timeoutMs);
        onGiveUp = () => r(true);
        if (giveUp?.aborted) r(true);
        giveUp?.addEventListener("abort", onGiveUp, { once: true });
      }),
    ]);
    clearTimeout(timer);
    giveUp?.removeEventListener("abort", onGiveUp);
    const why = giveUp?.aborted ? "the stop was forced" : `not acknowledged within ${timeoutMs / 1000} s of shutdown`;
    const lost = gaveUp ? this.abandon(new Error(why)) : 0;
    for (const lane of this.lanes.values()) lane.wake();
    if (!gaveUp) await Promise.all([...this.lanes.values()].map((l) => l.loop));
    await Promise.allSettled([...[...this.lanes.values()].map((l) => l.close()), this.topics.close()]);
    this.storm.close();
    return lost;
  }

  private abandon(reason: Error): number {
    this.abandoned = reason;
    let lost = 0;
    const fail = (items: Pending[]) => {
      for (const p of items) {
        p.reject(reason);
        lost++;
      }
    };
    for (const lane of this.lanes.values()) fail(lane.takeAll());
    fail(this.topics.takeHeld());
    this.outstanding = 0;
    this.notify();
    return lost;
  }

  private settledBelow(seq: number): boolean {
    if (this.abandoned) return true;
    if (this.topics.someHeld((p) => p.seq < seq)) return false;
    return [...this.lanes.values()].every((l) => l.oldest() >= seq);
  }

  private notify(): void {
    this.waiters = this.waiters.filter((w) => !w());
  }

  /** Rejects messages for good: their callers are told why, the log and the metrics count them (never a line each). */
  private reject(items: Pending[], why: SendRejected): void {
    if (items.length === 0) return;
    for (const p of items) p.reject(why);
    this.outstanding -= items.length;
    this.rejected += items.length;
    this.opts.onRejected?.(why.topic, items.length, why.kind);
    this.storm.note(why.message, `${items.length} message(s) rejected:`, items.length);
    this.notify();
  }

  /** After a look at `topic`: once nothing can be sent to it, what waits in its lanes is rejected too. */
  private lookedUp(topic: string): void {
    const problem = this.topics.problem(topic);
    if (!problem) return;
    for (const lane of this.lanes.values()) if (lane.topic === topic) this.reject(lane.takeQueue(), problem);
  }

  /**
   * Routes over the partition count known now: when partitions are added, most keys move to
   * another partition from then on (as with every Kafka producer); what was queued stays put.
   */
  private route(p: Pending): void {
    const n = this.topics.partitions(p.topic);
    if (p.partition !== undefined && p.partition >= n) {
      // the count may be older than the partition: one more look before giving up on it
      if (p.looked)
        this.reject([p], new SendRejected(p.topic, "no-partition", `partition ${p.partition} does not exist (${n} partitions)`));
      else {
        p.looked = true;
        this.topics.hold(p.topic, p);
      }
      return;
    }
    const partition = p.partition ?? partitionFor(p.message.key, n, () => this.nextRoundRobin(p.topic));
    const name = `${p.topic}/${partition}`;
    let lane = this.lanes.get(name);
    if (!lane) this.lanes.set(name, (lane = new Lane(p.topic, partition, this.host)));
    lane.push(p);
  }

  private nextRoundRobin(topic: string): number {
    const next = (this.roundRobin.get(topic) ?? Math.floor(Math.random() * 0x7fffffff)) + 1;
    this.roundRobin.set(topic, next);
    return next & 0x7fffffff;
  }
}

function sizeOf(v: OutgoingMessage["value"] | OutgoingMessage["key"]): number {
  if (v === null || v === undefined) return 0;
  return typeof v === "string" ? Buffer.byteLength(v) : v.length;
}

import { bestEffort, describe } from "../errors.ts";
import type { StormLog } from "../log.ts";
import { backoffMs, POLICIES, sleep } from "../retry.ts";
import type { KafkaClient, OutgoingMessage, PartitionWriter } from "./port.ts";
import { classifySend, SendRejected } from "./send-errors.ts";
import type { TopicMetadata } from "./topic-metadata.ts";

// One lane of the batching producer (src/kafka/batching-producer.ts): a topic-partition's queue and its own
// idempotent writer, shipping a batch at a time, each acknowledged before the next leaves. How a
// failed batch is answered — resent, split, rejected, routed again — is decided here.

/** Where Kafka put a message: its offset null when the client does not say. */
export interface Delivered {
  partition: number;
  offset: number | null;
}

/** A message accepted by the producer and not yet settled. */
export interface Pending {
  seq: number;
  /** performance.now() when queued: the linger runs from the oldest message of a batch. */
  at: number;
  bytes: number;
  topic: string;
  partition?: number;
  /** Its topic was looked at again for it: a partition of its own still beyond the count is then rejected. */
  looked?: boolean;
  message: OutgoingMessage;
  resolve: (delivered: Delivered) => void;
  reject: (err: unknown) => void;
}

/** What a lane needs from its producer. */
export interface LaneHost {
  readonly client: KafkaClient;
  readonly topics: TopicMetadata<Pending>;
  readonly storm: StormLog;
  readonly lingerMs: number;
  readonly maxBatch: number;
  readonly maxBatchBytes: number;
  /** Given up at shutdown (everything outstanding rejected already): the lane stops at once. */
  abandoned(): boolean;
  /** close() under way: no lingering, and the lane stops once its queue is empty. */
  closing(): boolean;
  /** flush() under way: no lingering. */
  flushing(): boolean;
  /** `base`: the offset of the batch's first record (null when the client does not say). */
  acked(topic: string, partition: number, batch: Pending[], base: number | null): void;
  retried(count: number): void;
  recreated(): void;
  reject(items: Pending[], why: SendRejected): void;
  route(p: Pending): void;
  /** A batch is settled: whoever waits for room or a flush looks again. */
  settled(): void;
}

export class Lane {
  /** "topic/partition" */
  readonly name: string;
  private queue: Pending[] = [];
  /** Key + value bytes of the queue. */
  private queuedBytes = 0;
  private inFlight: Pending[] = [];
  private writer: PartitionWriter | null = null;
  private wakeUp: (() => void) | null = null;
  /** The running loop; null once it stopped (at close), or before the first message. */
  loop: Promise<void> | null = null;

  constructor(
    readonly topic: string,
    readonly partition: number,
    private readonly host: LaneHost,
  ) {
    this.name = `${topic}/${partition}`;
  }

  push(p: Pending): void {
    this.queue.push(p);
    this.queuedBytes += p.bytes;
    this.loop ??= this.run();
    if (this.queue.length === 1 || this.full()) this.wake();
  }

  /** Ends a linger or an idle wait now. */
  wake(): void {
    this.wakeUp?.();
  }

  /** The seq of the oldest message not yet settled; Infinity when none. */
  oldest(): number {
    return Math.min(this.inFlight[0]?.seq ?? Infinity, this.queue[0]?.seq ?? Infinity);
  }

  /** The queued messages (not those on the wire), removed. */
  takeQueue(): Pending[] {
    this.queuedBytes = 0;
    return this.queue.splice(0);
  }

  /** Every unsettled message, removed: the producer gives them up at shutdown. */
  takeAll(): Pending[] {
    return [...this.inFlight.splice(0), ...this.takeQueue()];
  }

  async close(): Promise<void> {
    await this.writer?.close();
  }

  private async run(): Promise<void> {
    const host = this.host;
    while (!host.abandoned()) {
      const head = this.queue[0];
      if (!head) {
        if (host.closing()) break;
        await new Promise<void>((r) => (this.wakeUp = r));
        continue;
      }
      // linger: a partial batch gets lingerMs from its oldest message to fill up
      const wait = head.at + host.lingerMs - performance.now();
      if (wait > 0 && !this.full() && !host.flushing() && !host.closing()) {
        await new Promise<void>((r) => {
          const timer = setTimeout(r, wait);
          this.wakeUp = () => {
            clearTimeout(timer);
            r();
          };
        });
        continue;
      }
      this.wakeUp = null;
      this.inFlight = this.takeBatch();
      await this.deliver(this.inFlight);
      this.inFlight = [];
      host.settled();
    }
    this.loop = null;
  }

  private full(): boolean {
    return this.queue.length >= this.host.maxBatch || this.queuedBytes >= this.host.maxBatchBytes;
  }

  /** The oldest messages of the lane, up to maxBatch and maxBatchBytes (at least one). */
  private takeBatch(): Pending[] {
    let n = 0;
    let bytes = 0;
    while (n < this.queue.length && n < this.host.maxBatch) {
      const next = (this.queue[n] as Pending).bytes;
      if (n > 0 && bytes + next > this.host.maxBatchBytes) break;
      bytes += next;
      n++;
    }
    this.queuedBytes -= bytes;
    return this.queue.splice(0, n);
  }

  /**
   * Sends one batch until it is acknowledged (or the producer is abandoned at shutdown), or until
   * Kafka says it can never take it: a batch the broker finds too large or with an invalid record
   * is sent as two halves, down to the single record, which is rejected; a topic the cluster
   * refuses rejects the batch; a topic missing past the bound rejects the batch and the queue.
   */
  private async deliver(batch: Pending[]): Promise<void> {
    const host = this.host;
    const messages = batch.map((p) => p.message);
    for (let attempt = 1; ; attempt++) {
      if (host.abandoned()) return; // rejected at shutdown already
      let base: number | null;
      try {
        this.writer ??= await host.client.writer();
        // close() gave up while this writer was connecting, and closed the others without it
        if (host.abandoned()) return await this.dropWriter();
        base = await this.writer.send(this.topic, this.partition, messages);
      } catch (err) {
        if (host.abandoned()) return;
        const kind = classifySend(host.client.errorNames(err));
        if (kind === "too-large" || kind === "bad-record") {
          if (batch.length === 1) {
            const what = kind === "too-large" ? "larger than the broker accepts (message.max.bytes)" : "a record the broker refuses";
            return host.reject(batch, new SendRejected(this.topic, kind, `${what}: ${describe(err)}`, err));
          }
          const mid = batch.length >>> 1;
          await this.deliver(batch.slice(0, mid));
          return await this.deliver(batch.slice(mid));
        }
        if (kind === "refused") return host.reject(batch, new SendRejected(this.topic, "refused", describe(err), err));
        // the topic gone or recreated, a partition added or gone, a leader moved: look again
        if (kind === "metadata") void host.topics.lookUp(this.topic);
        host.retried(batch.length);
        host.storm.note(
          describe(err),
          `a batch of ${batch.length} message(s) for ${this.name} was not acknowledged; opening a new writer and resending:`,
          batch.length,
        );
        await this.recreate();
        await sleep(backoffMs(attempt, POLICIES.kafkaResend));
        if (host.abandoned()) return;
        const problem = host.topics.problem(this.topic);
        if (problem) return host.reject([...batch, ...this.takeQueue()], problem);
        if (kind === "metadata" && this.partition >= host.topics.partitions(this.topic)) return this.reroute(batch);
        continue;
      }
      if (host.abandoned()) return; // rejected at shutdown already
      host.acked(this.topic, this.partition, batch, base);
      return;
    }
  }

  /** This partition is gone (its topic recreated with fewer): the messages are routed again over the count there is. */
  private reroute(batch: Pending[]): void {
    const items = [...batch, ...this.takeQueue()];
    this.host.storm.note(`${this.name} no longer exists`, `messages routed again over the partitions of ${this.topic}:`, items.length);
    for (const p of items) this.host.route(p);
  }

  private async recreate(): Promise<void> {
    if (!this.writer) return;
    this.host.recreated();
    await this.dropWriter();
  }

  private async dropWriter(): Promise<void> {
    const old = this.writer;
    this.writer = null;
    await bestEffort(old?.close());
  }
}

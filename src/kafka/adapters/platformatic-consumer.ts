import type { Consumer } from "@platformatic/kafka";
import { asError, bestEffort, describe } from "../../errors.ts";
import { KAFKA_DEFAULTS } from "../../kafka-defaults.ts";
import type { StormLog } from "../../log.ts";
import { POLICIES, retry, within } from "../../retry.ts";
import type { Batch, BatchControl, ConsumerSpec, RunningConsumer } from "../port.ts";
import { groupRefused } from "../send-errors.ts";
import { FetchBuffer } from "./fetch-buffer.ts";
import { GrowthWatch } from "./growth-watch.ts";
import { type CommitOffset, PartitionLedger } from "./partition-ledger.ts";
import { errorNames } from "./platformatic-errors.ts";
import { incoming } from "./platformatic-stream.ts";
import { CALL_TIMEOUT_MS, type ConnectionBase, type GroupJoin, openStream, type Record, type Stream } from "./platformatic-stream.ts";
import { type FetchView, StallWatch } from "./stall-watch.ts";

/** How often fetching is checked for a stalled partition, and the group's offsets against what was written. */
const WATCH_MS = 10_000;
/** A consumer that cannot be opened, or reopened, for this long is given up (spec.onFatal). */
const REOPEN_FOR_MS = 120_000;

const C = KAFKA_DEFAULTS.consumer;

/**
 * The batch consumer over platformatic's message stream (docs/design.md, "Kafka client"). Per
 * partition its ledger tracks the next offset expected: a record below it is a copy (the stream
 * re-reads from the committed offset after every rebalance) and is dropped; a record above it
 * right after a rebalance means the stream skipped ahead (a fetch answered after the group moved
 * on), and the stream is then reopened at the committed offsets. Offsets are committed only for
 * partitions still assigned, and only past batches the handler accepted. A commit can fail, or be
 * overtaken by an older one the client was still retrying (the last to land wins), so every
 * WATCH_MS the group's offsets are read back and any that stands behind what this member wrote is
 * committed again. A stream that fails (a broker gone past its retries), a membership whose
 * heartbeats stalled, a handler that threw, or a fetch that stopped on a partition whose log holds
 * more (StallWatch) reopens the consumer with backoff; only when that keeps failing for two
 * minutes is the consumer given up. The first open waits the same way: a cluster just formed may
 * take longer than the client's own retries to settle its group coordinator.
 */
export async function consumeBatches(
  base: ConnectionBase,
  spec: ConsumerSpec,
  storm: StormLog,
  refreshMs: number,
): Promise<RunningConsumer> {
  const consumer = new BatchConsumer(base, spec, storm);
  await consumer.start(refreshMs);
  return { stop: () => consumer.stop() };
}

class BatchConsumer {
  #stopping = false;
  #consumer: Consumer | null = null;
  #stream: Stream | null = null;
  readonly #ledger = new PartitionLedger();
  readonly #pending = new FetchBuffer<Record>(() => this.#stream, C.batchMessages, C.bufferMessages);
  #wake: (() => void) | null = null;
  #broken: Error | null = null;
  readonly #stalls = new StallWatch();
  readonly #growth = new GrowthWatch();
  /** Counts the clients opened and closed: events of a client already closed are ignored. */
  #generation = 0;
  #timers: ReturnType<typeof setInterval>[] = [];
  #loop: Promise<void> = Promise.resolve();

  constructor(
    private readonly base: ConnectionBase,
    private readonly spec: ConsumerSpec,
    private readonly storm: StormLog,
  ) {}

  async start(refreshMs: number): Promise<void> {
    this.#timers = [unlessBusy(refreshMs, () => this.#checkGrowth()), unlessBusy(WATCH_MS, () => this.#checkProgress())];
    this.#loop = this.#run();
    try {
      await this.#openPatiently("open");
    } catch (err) {
      this.#halt();
      await this.#close();
      throw err;
    }
  }

  async stop(): Promise<void> {
    this.#halt();
    await this.#loop;
    if (this.#consumer) await this.#commit(await this.#behind(this.#consumer));
    await this.#close();
    this.storm.close();
  }

  #halt(): void {
    this.#stopping = true;
    for (const t of this.#timers) clearInterval(t);
    this.#notify();
  }

  /** The loop: the oldest partition's batch to the handler, a reopen when the consumer broke, a wait when there is nothing. */
  async #run(): Promise<void> {
    while (!this.#stopping) {
      if (this.#broken) {
        try {
          await this.#reopen();
        } catch (err) {
          if (!this.#stopping) this.spec.onFatal(asError(err));
          return;
        }
        continue;
      }
      const batch = this.#pending.take();
      if (batch.length === 0) {
        await new Promise<void>((r) => (this.#wake = r));
        continue;
      }
      try {
        await this.#handle((batch[0] as Record).partition, batch);
      } catch (err) {
        this.#fail(asError(err)); // nothing of the batch was committed: it is read again after the reopen
      }
    }
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
  }

  #fail(err: Error): void {
    if (this.#stopping) return;
    this.#broken ??= err;
    this.#notify();
  }

  async #open(): Promise<void> {
    const mine = ++this.#generation;
    const current = () => mine === this.#generation;
    const { consumer, stream } = await openStream(this.base, this.spec, {
      joined: (c, join) => current() && this.#joined(c, join),
      arrived: (m) => current() && this.#arrived(m),
      failed: (err) => current() && this.#fail(err),
    });
    this.#consumer = consumer;
    this.#stream = stream;
  }

  #joined(c: Consumer, { assignments, isLeader }: GroupJoin): void {
    const topic = this.spec.topic;
    // the leader assigned from its cached metadata: the count is read from that cache
    const cached = { topics: [topic], metadataMaxAge: Number.MAX_SAFE_INTEGER };
    this.#growth.joined(isLeader, async () => (await c.metadata(cached)).topics.get(topic)?.partitionsCount);
    const now = new Set(assignments.filter((a) => a.topic === topic).flatMap((a) => a.partitions));
    // The stream keeps the position it had fetched a partition to when it loses it, and resumes there
    // when it gains the partition back unless the group holds a commit for it: a batch fetched before
    // the loss and never written (its handler gave it up) would be skipped for good. Forgotten here,
    // a partition gained resumes at the group's commit, or at the earliest offset when there is none.
    // (This listener runs before the stream's own, which looks the offsets up.)
    for (const p of this.#ledger.assign(now)) this.#stream?.offsetsToFetch.delete(`${topic}:${p}`);
    this.#pending.keep(now);
  }

  #arrived(m: Record): void {
    const arrival = this.#ledger.arrive(m.partition, m.offset);
    if (arrival === "drop") return;
    if (arrival === "skipped") {
      const from = this.#ledger.expected(m.partition);
      this.#fail(new Error(`the stream skipped from offset ${from} to ${m.offset} of ${this.spec.topic}/${m.partition}`));
      return;
    }
    this.#pending.push(m);
    this.#notify();
  }

  async #close(): Promise<void> {
    const c = this.#consumer;
    this.#generation++;
    this.#consumer = null;
    this.#growth.reset();
    this.#stream = null;
    if (c) await bestEffort(within(CALL_TIMEOUT_MS, `closing the consumer of ${this.spec.topic}`, c.close(true)));
  }

  async #reopen(): Promise<void> {
    const topic = this.spec.topic;
    this.storm.note(describe(this.#broken), `consumer of ${topic} reopened at its committed offsets after:`);
    this.#broken = null;
    await this.#close();
    this.#ledger.clear(); // the new consumer reads again from the committed offsets
    this.#stalls.reset();
    this.#pending.clear();
    await this.#openPatiently("reopen");
  }

  /**
   * Opens the client, with backoff for up to REOPEN_FOR_MS: a group's coordinator may be loading or
   * moving for longer than the client's own retries (a cluster just formed, a broker lost). What the
   * cluster refuses for good (the topic, the group, our rights) fails at once.
   */
  async #openPatiently(verb: "open" | "reopen"): Promise<void> {
    const started = Date.now();
    await retry(
      async () => {
        if (this.#stopping) return;
        await this.#close();
        await this.#open();
      },
      {
        ...POLICIES.consumerReopen,
        retriable: (err) => !this.#stopping && Date.now() - started < REOPEN_FOR_MS && !groupRefused(errorNames(err)),
        onRetry: (err) => this.storm.note(describe(err), `cannot ${verb} the consumer of ${this.spec.topic} (retrying):`),
      },
    );
  }

  async #handle(partition: number, records: Record[]): Promise<void> {
    const gained = this.#ledger.gainOf(partition);
    const control: BatchControl = {
      owned: () => !this.#stopping && this.#broken === null && gained !== undefined && this.#ledger.gainOf(partition) === gained,
      heartbeat: async () => {}, // the client heartbeats on its own timer
    };
    if (!control.owned()) return;
    const batch: Batch = { topic: this.spec.topic, partition, messages: records.map(incoming) };
    if (!(await this.spec.onBatch(batch, control)) || !control.owned()) return;
    const last = records[records.length - 1] as Record;
    await this.#commit([this.#ledger.wrote(this.spec.topic, partition, last.offset, last.leaderEpoch ?? -1)]);
  }

  /** Commits past written batches; one that fails is found behind and sent again by the next watch, or by stop(). */
  async #commit(offsets: CommitOffset[]): Promise<void> {
    const c = this.#consumer;
    if (!c || offsets.length === 0) return;
    const what = `the commit of ${this.spec.topic}/${offsets.map((o) => o.partition).join(",")}`;
    try {
      await within(CALL_TIMEOUT_MS, what, c.commit({ offsets }));
    } catch (err) {
      this.storm.note(describe(err), `${what} failed (tried again):`);
    }
  }

  /** The commits of the partitions whose group offset stands behind what this member wrote. */
  async #behind(c: Consumer): Promise<CommitOffset[]> {
    const mine = this.#ledger.owned();
    if (mine.length === 0) return [];
    const topic = this.spec.topic;
    const topics = [{ topic, partitions: mine.map((o) => o.partition) }];
    try {
      const at = (await within(CALL_TIMEOUT_MS, "reading committed offsets", c.listCommittedOffsets({ topics }))).get(topic) ?? [];
      return PartitionLedger.behind(mine, at);
    } catch {
      return []; // a broker away: the next look
    }
  }

  /** Every WATCH_MS: commits that stand behind again, then a stalled partition reopens the consumer. */
  async #checkProgress(): Promise<void> {
    const c = this.#consumer;
    const s = this.#stream;
    if (!c || !s || this.#stopping || this.#broken !== null) return this.#stalls.reset();
    await this.#commit(await this.#behind(c));
    if (this.#pending.paused) return this.#stalls.reset(); // fetching stopped on purpose: the buffer is full
    const topic = this.spec.topic;
    let ends: bigint[];
    try {
      ends = (await within(CALL_TIMEOUT_MS, "listing offsets", c.listOffsets({ topics: [topic] }))).get(topic) ?? [];
    } catch {
      return this.#stalls.reset(); // a broker away: the stream's own errors decide
    }
    if (c !== this.#consumer || this.#pending.paused) return this.#stalls.reset();
    const view = new Map<number, FetchView>();
    for (const partition of this.#ledger.partitions()) {
      const position = s.offsetsToFetch.get(`${topic}:${partition}`);
      const end = ends[partition];
      if (position !== undefined && end !== undefined) view.set(partition, { position, end });
    }
    const stalled = this.#stalls.check(view);
    if (stalled.length > 0)
      this.#fail(
        new Error(`no record of ${topic} partition ${stalled.join(", ")} fetched for ${WATCH_MS / 1000} s though its log holds more`),
      );
  }

  /** Every `refreshMs`, as the leader: a topic that gained partitions since it assigned them rejoins the group (see GrowthWatch). */
  async #checkGrowth(): Promise<void> {
    const c = this.#consumer;
    if (!c || this.#stopping || this.#broken !== null) return;
    const topic = this.spec.topic;
    const count = async () => {
      const meta = await within(CALL_TIMEOUT_MS, "reading metadata", c.metadata({ topics: [topic], forceUpdate: true }));
      return meta.topics.get(topic)?.partitionsCount ?? 0;
    };
    const grew = await this.#growth.grown(count).catch(() => null); // a broker away: the next look
    if (!grew || c !== this.#consumer) return;
    this.storm.note(`${topic} grew from ${grew.from} to ${grew.to} partitions`, `the group's leader reassigns:`);
    try {
      // a leader's rejoin rebalances the group (the library rejoins so itself when a commit finds the group moved on)
      await within(CALL_TIMEOUT_MS, `rejoining ${this.spec.group}`, c.joinGroup({}));
    } catch (err) {
      if (c === this.#consumer) this.#fail(asError(err));
    }
  }
}

/** Runs `work` every `ms`, skipping a turn while the previous one still runs. */
function unlessBusy(ms: number, work: () => Promise<void>): ReturnType<typeof setInterval> {
  let busy = false;
  return setInterval(() => {
    if (busy) return;
    busy = true;
    void work().finally(() => (busy = false));
  }, ms);
}

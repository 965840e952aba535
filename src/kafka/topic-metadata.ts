import { describe } from "../errors.ts";
import type { StormLog } from "../log.ts";
import { backoffMs, POLICIES, sleep } from "../retry.ts";
import type { KafkaAdmin, KafkaClient } from "./port.ts";
import { classifySend, SendRejected } from "./send-errors.ts";

// What the batching producer knows of each topic it writes to (docs/design.md, "Faults"): the
// partition count it routes keys over, looked at again every `refreshMs` and whenever a send says
// the metadata moved on (a partition count is never taken as fixed: topics grow, and a deleted
// topic may come back with another count); whether the topic is missing, and since when; whether
// the cluster refuses it. Messages for a topic not yet looked up are held here until it is.

interface TopicState<T> {
  /** Partitions last seen; 0 before the topic was ever found. */
  partitions: number;
  /** performance.now() when the topic was first found missing; null while it exists. */
  missingSince: number | null;
  /** The cluster refuses the topic itself (invalid name, not authorised). */
  refused: unknown;
  lookup: Promise<void> | null;
  /** Asked for while a look-up ran: another one follows it (what asked may know of a newer change). */
  again: boolean;
  /** Messages waiting for the look-up, in send order. */
  held: T[];
}

export interface TopicMetadataOptions<T> {
  refreshMs: number;
  /** How long a missing topic is waited for (recreated, as the consumers do with a dead-letter topic) before sends to it are rejected. */
  missingTopicMs: number;
  storm: StormLog;
  /** A message whose topic is known (routed over `partitions(topic)`). */
  route(item: T): void;
  /** Held messages that can never be sent. */
  reject(items: T[], why: SendRejected): void;
  /** After every look-up: the producer acts on what changed for its lanes. */
  lookedUp(topic: string): void;
}

/** How often a missing topic that messages wait for is looked at again. */
const MISSING_LOOK_MS = 1000;

export class TopicMetadata<T> {
  private readonly topics = new Map<string, TopicState<T>>();
  private admin: KafkaAdmin | null = null;
  private closed = false;
  private readonly timer: ReturnType<typeof setInterval>;

  constructor(
    private readonly client: KafkaClient,
    private readonly opts: TopicMetadataOptions<T>,
  ) {
    this.timer = setInterval(() => {
      for (const topic of this.topics.keys()) void this.lookUp(topic);
    }, opts.refreshMs);
    this.timer.unref?.();
  }

  async connect(): Promise<void> {
    this.admin ??= await this.client.admin();
  }

  /** Partitions to route `topic`'s keys over; 0 while it was never found. */
  partitions(topic: string): number {
    return this.topics.get(topic)?.partitions ?? 0;
  }

  /** Sends `item` on with route() when the topic is known and usable, else holds it for a look-up. */
  submit(topic: string, item: T): void {
    const s = this.topics.get(topic);
    if (s && s.held.length === 0 && s.partitions > 0 && this.problem(topic) === null) this.opts.route(item);
    else this.hold(topic, item);
  }

  /** Holds `item` (and every later message of its topic) until the topic was looked at again. */
  hold(topic: string, item: T): void {
    this.state(topic).held.push(item);
    void this.lookUp(topic);
  }

  /** Why nothing can be sent to `topic` now (refused, or missing past the bound); null when it can. */
  problem(topic: string): SendRejected | null {
    const s = this.topics.get(topic);
    if (!s) return null;
    if (s.refused) return new SendRejected(topic, "refused", `the cluster refuses the topic (${describe(s.refused)})`, s.refused);
    if (s.missingSince !== null && performance.now() - s.missingSince >= this.opts.missingTopicMs)
      return new SendRejected(
        topic,
        "missing-topic",
        `the topic does not exist (missing for over ${this.opts.missingTopicMs / 1000} s; the cluster does not create topics on demand)`,
      );
    return null;
  }

  /** Looks the topic up now (one look-up at a time per topic; a call during one has another follow it). */
  lookUp(topic: string): Promise<void> {
    const s = this.state(topic);
    if (s.lookup) {
      s.again = true;
      return s.lookup;
    }
    s.lookup = this.look(topic, s).finally(() => {
      s.lookup = null;
      const again = s.again;
      s.again = false;
      if (again && !this.closed) void this.lookUp(topic);
    });
    return s.lookup;
  }

  /** Whether any held message passes `test` (flush() waits for those sent before it). */
  someHeld(test: (item: T) => boolean): boolean {
    for (const s of this.topics.values()) if (s.held.some(test)) return true;
    return false;
  }

  /** Every held message, removed (the producer gives them up at shutdown). */
  takeHeld(): T[] {
    return [...this.topics.values()].flatMap((s) => s.held.splice(0));
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.timer);
    await this.admin?.close();
  }

  private state(topic: string): TopicState<T> {
    let s = this.topics.get(topic);
    if (!s) this.topics.set(topic, (s = { partitions: 0, missingSince: null, refused: null, lookup: null, again: false, held: [] }));
    return s;
  }

  private async look(topic: string, s: TopicState<T>): Promise<void> {
    for (let attempt = 1; !this.closed; attempt++) {
      try {
        this.admin ??= await this.client.admin();
        const n = (await this.admin.partitions(topic)).length;
        s.refused = null;
        if (n === 0) s.missingSince ??= performance.now();
        else {
          s.partitions = n;
          s.missingSince = null;
        }
        break;
      } catch (err) {
        if (classifySend(this.client.errorNames(err)) === "refused") {
          s.refused = err;
          break;
        }
        this.opts.storm.note(describe(err), `cannot look up the partitions of ${topic} (retrying):`);
        await sleep(backoffMs(attempt, POLICIES.kafkaResend));
      }
    }
    if (this.closed) return;
    this.release(topic, s);
    this.opts.lookedUp(topic);
  }

  /** Held messages go on, are rejected, or wait for the next look (a topic missing, not yet for long). */
  private release(topic: string, s: TopicState<T>): void {
    if (s.held.length === 0) return;
    const problem = this.problem(topic);
    if (problem) this.opts.reject(s.held.splice(0), problem);
    else if (s.partitions > 0) {
      for (const item of s.held.splice(0)) this.opts.route(item); // missing for a moment: the lanes wait for it
    } else
      void sleep(MISSING_LOOK_MS).then(() => {
        if (!this.closed) void this.lookUp(topic);
      });
  }
}

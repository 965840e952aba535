import {
  CHAOS_KINDS,
  type ChaosKind,
  type ChaosProfile,
  DRIFT_FIELD,
  drawKind,
  TIME_FIELD,
  latenessMs,
  truncated,
  withNulls,
} from "../domain/chaos.ts";
import { Rng } from "../domain/random.ts";
import { KAFKA_DEFAULTS } from "../kafka-defaults.ts";
import { sleep } from "../retry.ts";
import type { BatchingProducer } from "../kafka/batching-producer.ts";
import type { StatusChange } from "../domain/types.ts";
import type { EventKinds } from "../kafka/contract.ts";
import { eventIdOf } from "../kafka/envelope.ts";
import type { Delivered } from "../kafka/lane.ts";
import type { EntityTopic, TopicNames } from "../kafka/topics.ts";
import type { EventEncoder } from "../schemas/serializer.ts";

// How a writer puts a record on its topic: plainly, or with a chaos profile's faults injected and
// each written to the answer key (docs/design.md, "Chaos") once Kafka says where it landed.

/** One line of the answer key: the chaos.key topic, landed in chaos_injections by `bun run chaos-score`. */
export interface ChaosKeyEntry {
  /** The id of the record the fault was made of (an entity's id is its event id). */
  event_id: string;
  kind: ChaosKind;
  topic: string;
  /** Where the injected record landed: the second copy of a duplicate, the poison, the late record... */
  partition: number;
  offset: number | null;
  /** When it was injected. */
  at: string;
  detail?: Record<string, unknown>;
}

/** A lifecycle step (on the orders topic), with the step that follows it in the order's plan. */
export interface StepSend {
  as: "steps";
  /** The next step of the plan, which `early` sends ahead of this one; null at the plan's end. */
  successor: StatusChange | null;
}

export interface RecordSender {
  /** Resolves once Kafka acknowledged the record (the good one, when a fault came with it). */
  send<E extends EntityTopic>(entity: E, key: string, data: EventKinds[E], step?: StepSend): Promise<Delivered>;
  /**
   * Closes the producer (BatchingProducer.close: everything accepted is flushed, unless `giveUp`),
   * sending first what is held back and, within the same close timeout, the key lines of injected
   * records still in flight. Resolves to the number of messages never delivered.
   */
  close(giveUp?: AbortSignal): Promise<number>;
}

export function plainSender(producer: BatchingProducer, names: TopicNames, values: EventEncoder): RecordSender {
  return {
    send: (entity, key, data) => producer.send(names.topic(entity), { key, value: values.encode(entity, data) }),
    close: (giveUp) => producer.close(undefined, giveUp),
  };
}

interface Held {
  entity: EntityTopic;
  data: EventKinds[EntityTopic];
  since: number;
  settle: (sent: Promise<Delivered>) => void;
}

/** How long an out-of-order candidate waits for its key's next record before it goes as it is. */
export const HOLD_MS = 1000;

export class ChaosSender implements RecordSender {
  /** Faults injected (and written to the key) so far, by kind. */
  readonly injected = Object.fromEntries(CHAOS_KINDS.map((k) => [k, 0])) as Record<ChaosKind, number>;
  /** Injected records that landed after the producer had closed, so without their key line. */
  unkeyed = 0;
  private readonly held = new Map<string, Held>();
  /** Injected records not yet acknowledged: their key lines are still to be written. */
  private readonly noting = new Set<Promise<void>>();
  /** Sends the out-of-order candidates that waited in vain, even when no other record comes. */
  private readonly sweep: ReturnType<typeof setInterval>;

  constructor(
    private readonly producer: BatchingProducer,
    private readonly names: TopicNames,
    private readonly values: EventEncoder,
    readonly profile: ChaosProfile,
    /** Each record's faults are drawn from `<seed>:<event id>`: the same records get the same faults, whatever the timing. */
    private readonly seed: string,
    private readonly opts: { holdMs?: number; onInjected?: (topic: string, kind: ChaosKind) => void } = {},
  ) {
    this.sweep = setInterval(() => this.expire(), this.holdMs() / 4);
    this.sweep.unref();
  }

  private holdMs(): number {
    return this.opts.holdMs ?? HOLD_MS;
  }

  /** "3 duplicate, 1 poison" (or "none"), and how many landed without a key line: for a stop line. */
  summary(): string {
    const parts = CHAOS_KINDS.filter((k) => this.injected[k] > 0).map((k) => `${this.injected[k]} ${k}`);
    const unkeyed = this.unkeyed ? `; ${this.unkeyed} of them landed after the close began and are not in the key` : "";
    return (parts.length ? parts.join(", ") : "none") + unkeyed;
  }

  send<E extends EntityTopic>(entity: E, key: string, data: EventKinds[E], step?: StepSend): Promise<Delivered> {
    const rng = new Rng(`${this.seed}:${eventIdOf(data)}`);
    const kind = drawKind(this.profile, step ? "steps" : entity, rng);
    if (kind === "early" && step?.successor) {
      // the step after this one goes first: the consumer must hold it until this one is applied
      const ahead = step.successor;
      this.note(this.put(entity, key, this.values.encode(entity, ahead as EventKinds[E])), kind, entity, ahead, {
        true_at: ahead.at.toISOString(),
        ahead_of: (data as StatusChange).to,
      });
      return this.put(entity, key, this.values.encode(entity, data));
    }
    const earlier = this.held.get(key);
    if (kind === "out_of_order" && !earlier) return this.hold(entity, key, data);
    const sent = this.inject(entity, key, data, kind === "out_of_order" ? null : kind, rng);
    if (earlier) {
      // the held record goes after a later one of its key: out of order within the key
      this.held.delete(key);
      const late = this.put(earlier.entity, key, this.values.encode(earlier.entity, earlier.data));
      this.note(late, "out_of_order", earlier.entity, earlier.data, { overtaken_by: eventIdOf(data) });
      earlier.settle(late);
    }
    this.expire();
    return sent;
  }

  async close(giveUp?: AbortSignal): Promise<number> {
    clearInterval(this.sweep);
    for (const [key, h] of this.held) {
      this.held.delete(key);
      h.settle(this.put(h.entity, key, this.values.encode(h.entity, h.data)));
    }
    // one close timeout in all: the injected records' landing (their key lines are queued as each
    // lands), then the flush of everything, key lines included, with what is left of it
    const started = Date.now();
    const timeoutMs = KAFKA_DEFAULTS.producer.closeTimeoutMs;
    const landed = new AbortController();
    void Promise.allSettled([...this.noting]).then(() => landed.abort());
    await sleep(timeoutMs, giveUp ? AbortSignal.any([giveUp, landed.signal]) : landed.signal);
    return this.producer.close(Math.max(0, timeoutMs - (Date.now() - started)), giveUp);
  }

  /** Held past holdMs with no later record of its key: sent as it is (no fault, nothing in the key). */
  private expire(): void {
    const now = Date.now();
    for (const [key, h] of this.held) {
      if (now - h.since < this.holdMs()) break; // held in time order
      this.held.delete(key);
      h.settle(this.put(h.entity, key, this.values.encode(h.entity, h.data)));
    }
  }

  private hold<E extends EntityTopic>(entity: E, key: string, data: EventKinds[E]): Promise<Delivered> {
    return new Promise((resolve, reject) => {
      this.held.set(key, { entity, data, since: Date.now(), settle: (sent) => sent.then(resolve, reject) });
    });
  }

  private inject<E extends EntityTopic>(entity: E, key: string, data: EventKinds[E], kind: ChaosKind | null, rng: Rng): Promise<Delivered> {
    switch (kind) {
      case "duplicate": {
        const value = this.values.encode(entity, data);
        const first = this.put(entity, key, value);
        this.note(this.put(entity, key, value), kind, entity, data);
        return first;
      }
      case "late": {
        const behindMs = latenessMs(this.profile, rng);
        const at = new Date(Date.now() - behindMs);
        const old = { ...data, [TIME_FIELD[entity]]: at } as EventKinds[E];
        const sent = this.put(entity, key, this.values.encode(entity, old, at));
        this.note(sent, kind, entity, data, { true_at: at.toISOString(), behind_ms: Math.round(behindMs) });
        return sent;
      }
      case "nulls": {
        const nulled = withNulls(entity, data);
        if (!nulled) return this.put(entity, key, this.values.encode(entity, data));
        const sent = this.put(entity, key, this.values.encode(entity, nulled.data));
        this.note(sent, kind, entity, data, { fields: nulled.fields });
        return sent;
      }
      case "drift": {
        const value = this.values.encode(entity, data);
        // a registry format's record cannot carry a field its schema lacks: sent as it is
        if (typeof value !== "string") return this.put(entity, key, value);
        const wire = JSON.parse(value) as { data: Record<string, unknown> };
        wire.data[DRIFT_FIELD] = "added by a newer producer";
        const sent = this.put(entity, key, JSON.stringify(wire));
        this.note(sent, kind, entity, data, { field: DRIFT_FIELD });
        return sent;
      }
      case "poison": {
        const value = this.values.encode(entity, data);
        const sent = this.put(entity, key, value);
        this.note(this.put(entity, key, truncated(value)), kind, entity, data, { bytes: truncated(value).length });
        return sent;
      }
      default:
        return this.put(entity, key, this.values.encode(entity, data));
    }
  }

  private put(entity: EntityTopic, key: string, value: string | Buffer): Promise<Delivered> {
    return this.producer.send(this.names.topic(entity), { key, value });
  }

  /** Once the injected record is acknowledged: its line in the answer key (none if it never landed). */
  private note(
    landed: Promise<Delivered>,
    kind: ChaosKind,
    entity: EntityTopic,
    data: EventKinds[EntityTopic],
    detail?: Record<string, unknown>,
  ): void {
    const noted = landed.then(
      ({ partition, offset }) => {
        const entry: ChaosKeyEntry = {
          event_id: eventIdOf(data),
          kind,
          topic: this.names.topic(entity),
          partition,
          offset,
          at: new Date().toISOString(),
          ...(detail ? { detail } : {}),
        };
        this.injected[kind]++;
        this.opts.onInjected?.(entry.topic, kind);
        // refused only once the producer has closed: the record landed after the close began
        this.producer.send(this.names.chaosKey(), { key: entry.event_id, value: JSON.stringify(entry) }).catch(() => this.unkeyed++);
      },
      () => undefined, // not landed: nothing was injected (the producer counts and logs what it could not send)
    );
    this.noting.add(noted);
    void noted.then(() => this.noting.delete(noted));
  }
}

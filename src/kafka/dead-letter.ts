import { describe } from "../errors.ts";
import type { StormLog } from "../log.ts";
import { sleep } from "../retry.ts";
import { utf8OrNull } from "./envelope.ts";
import type { Batch, BatchControl, IncomingMessage, KafkaClient, RecordHeader } from "./port.ts";
import type { BatchingProducer } from "./batching-producer.ts";
import { type EntityTopic, type TopicNames, topicSpecs } from "./topics.ts";

// Dead letters (docs/design.md, "Faults"): what a record the consumers cannot store becomes — a
// faithful, replayable copy of it with the reason — and how it reaches its topic without ever
// holding the partition or a stop.

/** Where a consumer's dead letters go: its entity's dead-letter topic, through its producer. */
export interface DeadLetterTarget {
  client: KafkaClient;
  names: TopicNames;
  entity: EntityTopic;
  producer: BatchingProducer;
}

export interface DeadLetter {
  reason: string;
  /** The database's SQLSTATE when PostgreSQL refused the record. */
  sqlstate?: string;
  /** Write rounds the record took part in before it was given up (0: refused on decoding). */
  attempts: number;
  source: { topic: string; partition: number; offset: string };
  /** The source key as UTF-8 text, cut short like the value (see deadKey); null when absent or not UTF-8. */
  key: string | null;
  /** The key's bytes in base64, instead of `key`, when they are not valid UTF-8. */
  key_base64?: string;
  /** Set only when the key was cut: its full size in bytes. */
  key_bytes?: number;
  key_truncated?: true;
  /** The raw value as UTF-8 text, cut short when it would not fit a dead letter (see deadValue); null when absent or not UTF-8. */
  value: string | null;
  /** The raw value's bytes in base64, instead of `value`, when they are not valid UTF-8 (cut like `value`). */
  value_base64?: string;
  /** Set only when the value was cut: the raw value's full size in bytes. */
  value_bytes?: number;
  value_truncated?: true;
  /** The source record's headers in order, each value as its key is carried (text, or base64; cut at 4 KiB); absent when it had none. */
  headers?: DeadHeader[];
  /** Set only when the record had more headers than a dead letter keeps (DEAD_HEADERS_MAX): how many. */
  headers_count?: number;
  failed_at: string;
}

export interface DeadHeader {
  key: string;
  value: string | null;
  value_base64?: string;
  value_bytes?: number;
  value_truncated?: true;
}

export function deadLetter(
  reason: string,
  batch: Pick<Batch, "topic" | "partition">,
  m: IncomingMessage,
  more: { sqlstate?: string; attempts?: number } = {},
): DeadLetter {
  return {
    reason,
    ...(more.sqlstate ? { sqlstate: more.sqlstate } : {}),
    attempts: more.attempts ?? 0,
    source: { topic: batch.topic, partition: batch.partition, offset: m.offset },
    ...deadKey(m.key),
    ...deadValue(m.value),
    ...(m.headers ? deadHeaders(m.headers) : {}),
    failed_at: new Date().toISOString(),
  };
}

/**
 * How much of a raw value a dead letter keeps, in bytes of its JSON encoding (escapes included:
 * control characters take six bytes each). A record as large as the broker accepts (1 MB) would
 * otherwise make a dead letter larger than that, which could never be delivered, and the batch
 * holding it could never be committed.
 */
export const DEAD_VALUE_MAX = 256 * 1024;

/** How long dead letters may go unacknowledged before the partition heartbeats and looks at their topic. */
const DEAD_LETTER_WAIT_MS = 5000;

/**
 * Sends a batch's dead letters and waits until Kafka acknowledged them all; true once it has. While
 * their topic is missing (deleted under load) or unavailable, the partition waits: it heartbeats,
 * recreates the topic when it is gone, says so once per kind, and gives the batch up (false, for
 * its next owner) when it loses the partition or stops, so neither the group nor a stop hangs.
 */
export async function deliverDeadLetters(
  to: DeadLetterTarget,
  dead: readonly DeadLetter[],
  control: BatchControl,
  storm: StormLog,
): Promise<boolean> {
  const topic = to.names.dlq(to.entity);
  let outcome: "pending" | "sent" | "lost" = "pending";
  const sent = Promise.all(dead.map((d) => to.producer.send(topic, { key: d.key ?? d.key_base64 ?? null, value: JSON.stringify(d) }))).then(
    () => void (outcome = "sent"),
    // the producer gave up at shutdown, or rejected them (their topic missing past the bound): the
    // batch stays uncommitted and is read again
    () => void (outcome = "lost"),
  );
  for (let waited = DEAD_LETTER_WAIT_MS; ; waited += DEAD_LETTER_WAIT_MS) {
    await Promise.race([sent, sleep(DEAD_LETTER_WAIT_MS)]);
    if (outcome !== "pending") return outcome === "sent";
    if (!control.owned()) return false;
    await control.heartbeat();
    storm.note(`${topic} does not acknowledge`, `dead letters waiting ${waited / 1000} s, partition paused:`);
    await recreateIfMissing(to.client, to.names, to.entity).catch((err) =>
      storm.note(describe(err), `cannot recreate the dead-letter topic ${topic}:`),
    );
  }
}

/** The entity's dead-letter topic, created again (as at start, with its source's partitions) when it was deleted. */
async function recreateIfMissing(client: KafkaClient, names: TopicNames, entity: EntityTopic): Promise<void> {
  const admin = await client.admin();
  try {
    if ((await admin.listTopics()).includes(names.dlq(entity))) return;
    const partitions = (await admin.partitions(names.topic(entity))).length;
    const spec = topicSpecs(names, partitions > 0 ? { partitions } : {}).find((t) => t.topic === names.dlq(entity));
    if (spec) await admin.createTopics([spec]);
  } finally {
    await admin.close();
  }
}

/** Dead letters counted in the storm log by reason, each reason a line of its own (never filed under another's). */
export function noteDeadLetters(storm: StormLog, dead: readonly DeadLetter[], where: string): void {
  const byReason = new Map<string, number>();
  for (const d of dead) byReason.set(d.reason, (byReason.get(d.reason) ?? 0) + 1);
  for (const [reason, n] of byReason) storm.note(reason, `${n} record(s) of ${where} dead-lettered:`, n);
}

/** How much of a raw key a dead letter keeps (as for values); it also keys the dead letter itself. */
export const DEAD_KEY_MAX = 4 * 1024;

/** A raw key or value as a dead letter carries it: text, or base64 when not UTF-8, cut to `max` bytes of JSON. */
interface RawCopy {
  text: string | null;
  base64?: string;
  bytes?: number;
  truncated?: true;
}

function rawCopy(raw: Buffer, max: number): RawCopy {
  const text = utf8OrNull(raw);
  if (text === null) {
    // bytes that are not UTF-8 travel as base64, whole when they fit (4 characters per 3 bytes)
    const fits = Math.floor(max / 4) * 3;
    if (raw.length <= fits) return { text: null, base64: raw.toString("base64") };
    return { text: null, base64: raw.subarray(0, fits).toString("base64"), bytes: raw.length, truncated: true };
  }
  if (raw.length <= max / 6 || jsonBytes(text) <= max) return { text };
  // the longest prefix whose encoding fits (each character takes one byte at least), searched
  // over whole characters: a prefix never ends in the first half of a surrogate pair
  const prefix = (n: number) => text.slice(0, n > 0 && isHighSurrogate(text.charCodeAt(n - 1)) ? n - 1 : n);
  let lo = 0;
  let hi = Math.min(text.length, max);
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    if (jsonBytes(prefix(mid)) <= max) lo = mid;
    else hi = mid - 1;
  }
  return { text: prefix(lo), bytes: raw.length, truncated: true };
}

export function deadValue(
  value: Buffer | null | undefined,
): Pick<DeadLetter, "value" | "value_base64" | "value_bytes" | "value_truncated"> {
  if (value === null || value === undefined) return { value: null };
  const c = rawCopy(value, DEAD_VALUE_MAX);
  return {
    value: c.text,
    ...(c.base64 !== undefined ? { value_base64: c.base64 } : {}),
    ...(c.truncated ? { value_bytes: c.bytes, value_truncated: true as const } : {}),
  };
}

/** The source key as a dead letter carries it: any size or bytes still make a dead letter the broker takes. */
export function deadKey(key: Buffer | null | undefined): Pick<DeadLetter, "key" | "key_base64" | "key_bytes" | "key_truncated"> {
  if (key === null || key === undefined) return { key: null };
  const c = rawCopy(key, DEAD_KEY_MAX);
  return {
    key: c.text,
    ...(c.base64 !== undefined ? { key_base64: c.base64 } : {}),
    ...(c.truncated ? { key_bytes: c.bytes, key_truncated: true as const } : {}),
  };
}

/** Headers a dead letter keeps: with each cut like a key, 64 of them stay well under the broker's limit. */
export const DEAD_HEADERS_MAX = 64;

function deadHeaders(headers: readonly RecordHeader[]): Pick<DeadLetter, "headers" | "headers_count"> {
  const kept = headers.slice(0, DEAD_HEADERS_MAX).map(([key, value]): DeadHeader => {
    const { key: text, key_base64, key_bytes, key_truncated } = deadKey(value);
    return {
      key: key.slice(0, 256),
      value: text,
      ...(key_base64 !== undefined ? { value_base64: key_base64 } : {}),
      ...(key_truncated ? { value_bytes: key_bytes, value_truncated: true as const } : {}),
    };
  });
  return { headers: kept, ...(headers.length > DEAD_HEADERS_MAX ? { headers_count: headers.length } : {}) };
}

/** Bytes of `text` as a JSON string body (UTF-8, escapes included, quotes excluded). */
function jsonBytes(text: string): number {
  return Buffer.byteLength(JSON.stringify(text)) - 2;
}

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

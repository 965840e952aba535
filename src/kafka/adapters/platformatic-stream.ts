import { Consumer, type Message, type MessagesStream, MessagesStreamFallbackModes, MessagesStreamModes } from "@platformatic/kafka";
import { bestEffort } from "../../errors.ts";
import { KAFKA_DEFAULTS } from "../../kafka-defaults.ts";
import { within } from "../../retry.ts";
import type { ConsumerSpec, IncomingMessage } from "../port.ts";

// One platformatic consumer and its message stream, opened as the batch consumer needs them: the
// settings of the defaults table, no automatic commits, reading from the group's committed offsets
// (the earliest where it has none), every event handed to the batch consumer.

const C = KAFKA_DEFAULTS.consumer;

/** A commit, an offsets lookup or a close that takes longer is taken as failed. */
export const CALL_TIMEOUT_MS = 15_000;

export type Record = Message<Buffer, Buffer, Buffer, Buffer>;
export type Stream = MessagesStream<Buffer, Buffer, Buffer, Buffer>;
export type GroupJoin = { assignments: { topic: string; partitions: number[] }[]; isLeader: boolean };
export type ConnectionBase = { clientId: string; bootstrapBrokers: string[]; connectTimeout: number };

export interface StreamEvents {
  /** The group assigned this member its partitions. */
  joined(consumer: Consumer, join: GroupJoin): void;
  arrived(record: Record): void;
  /** The client or its stream failed, or the membership stopped heartbeating. */
  failed(err: Error): void;
}

export async function openStream(
  base: ConnectionBase,
  spec: ConsumerSpec,
  on: StreamEvents,
): Promise<{ consumer: Consumer; stream: Stream }> {
  const c = new Consumer({
    ...base,
    groupId: spec.group,
    autocommit: false,
    sessionTimeout: C.sessionTimeoutMs,
    rebalanceTimeout: C.rebalanceTimeoutMs,
    heartbeatInterval: C.heartbeatIntervalMs,
    maxWaitTime: C.maxWaitMs,
    maxBytesPerPartition: C.maxBytesPerPartition,
    maxBytes: C.maxBytes,
    highWaterMark: C.bufferMessages,
    retries: C.retries,
    retryDelay: C.retryDelayMs,
  });
  c.on("consumer:group:join", (join: GroupJoin) => on.joined(c, join));
  c.on("error", (err: Error) => on.failed(err));
  // the client stopped heartbeating for a rebalance timeout (a rejoin that failed without an error)
  c.on("consumer:heartbeat:stalled", () => on.failed(new Error(`the membership of ${spec.group} stopped heartbeating`)));
  let stream: Stream;
  try {
    stream = await c.consume({
      topics: [spec.topic],
      mode: MessagesStreamModes.COMMITTED,
      fallbackMode: MessagesStreamFallbackModes.EARLIEST,
      autocommit: false,
    });
  } catch (err) {
    await bestEffort(within(CALL_TIMEOUT_MS, `closing the consumer of ${spec.topic}`, c.close(true)));
    throw err;
  }
  stream.on("data", (m: Record) => on.arrived(m));
  stream.on("error", (err: Error) => on.failed(err));
  return { consumer: c, stream };
}

/** A record as the port hands it on: key, value, offset as a string, headers when it has any. */
export function incoming(m: Record): IncomingMessage {
  const message: IncomingMessage = { key: m.key ?? null, value: m.value ?? null, offset: m.offset.toString() };
  if (m.headers?.size) message.headers = [...m.headers].map(([k, v]) => [k.toString(), v ?? null] as const);
  return message;
}

import type { KafkaAdmin, KafkaClient } from "./port.ts";

// Every message a topic holds now, read through the port with a group of its own: what the
// end-to-end and fault suites and the broker-kill benchmark compare PostgreSQL against.

export interface ReadMessage {
  key: string | null;
  value: string;
  /** The value as read (a registry format's is binary: `value` is then not its text). */
  bytes: Buffer | null;
  partition: number;
  offset: string;
}

/** Every message now in a topic, read with a throwaway group from the beginning to the end offsets. */
export async function readTopic(client: KafkaClient, admin: KafkaAdmin, topic: string): Promise<ReadMessage[]> {
  const ends = await admin.offsets(topic);
  const remaining = new Map(ends.filter((p) => p.high > p.low).map((p) => [p.partition, p.high]));
  const byOffset = new Map<string, ReadMessage>();
  if (remaining.size === 0) return [];
  let done: () => void = () => {};
  const finished = new Promise<void>((resolve) => (done = resolve));
  const reader = await client.consume({
    group: `${topic}.reader.${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`,
    topic,
    onFatal: () => {},
    onBatch: async (batch) => {
      for (const m of batch.messages) {
        // a batch read twice across a rebalance is counted once
        byOffset.set(`${batch.partition}:${m.offset}`, {
          key: m.key?.toString() ?? null,
          value: m.value?.toString() ?? "",
          bytes: m.value,
          partition: batch.partition,
          offset: m.offset,
        });
      }
      const end = remaining.get(batch.partition);
      const last = batch.messages[batch.messages.length - 1];
      if (end !== undefined && last && Number(last.offset) + 1 >= end) remaining.delete(batch.partition);
      if (remaining.size === 0) done();
      return true;
    },
  });
  const timeout = Bun.sleep(60_000).then(() => "timeout");
  const outcome = await Promise.race([finished.then(() => "read"), timeout]);
  await reader.stop();
  if (outcome !== "read") throw new Error(`reading ${topic} timed out`);
  return [...byOffset.values()].sort((a, b) => a.partition - b.partition || Number(a.offset) - Number(b.offset));
}

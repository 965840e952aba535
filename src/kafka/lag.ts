import type { Admin } from "kafkajs";
import { ENTITY_TOPICS, type TopicNames } from "./topics.ts";

// Consumer lag per group and partition: the log end against the group's committed offset. Read by
// the metrics service at every scrape and by start:all while it drains the pipeline.

export async function consumerLag(
  admin: Admin,
  names: TopicNames,
): Promise<{ group: string; topic: string; partition: number; lag: number }[]> {
  const out: { group: string; topic: string; partition: number; lag: number }[] = [];
  for (const entity of ENTITY_TOPICS) {
    const topic = names.topic(entity);
    const group = names.group(entity);
    const [ends, committed] = await Promise.all([
      admin.fetchTopicOffsets(topic),
      retriable(() => admin.fetchOffsets({ groupId: group, topics: [topic] })),
    ]);
    const committedBy = new Map((committed[0]?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
    for (const p of ends) {
      const end = Number(p.high);
      const done = committedBy.get(p.partition) ?? -1;
      // no commit yet: everything since the log start is lag
      const lag = done < 0 ? end - Number(p.low) : Math.max(0, end - done);
      out.push({ group, topic, partition: p.partition, lag });
    }
  }
  return out;
}

// On a new cluster the group coordinator moves while __consumer_offsets settles, and kafkajs' admin
// surfaces NOT_COORDINATOR instead of retrying: retry retriable errors briefly ourselves.
async function retriable<T>(call: () => Promise<T>, attempts = 10): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await call();
    } catch (err) {
      if (i >= attempts || !(err as { retriable?: boolean }).retriable) throw err;
      await new Promise((r) => setTimeout(r, 300));
    }
  }
}

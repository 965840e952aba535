import type { KafkaAdmin } from "./port.ts";
import { ENTITY_TOPICS, type EntityTopic, type TopicNames } from "./topics.ts";

// Consumer lag per group and partition: the log end against the group's committed offset. Read by
// the metrics service at every scrape and by start:all while it drains the pipeline.

export interface PartitionLag {
  group: string;
  topic: string;
  partition: number;
  lag: number;
}

/** Every topic's group, or only those of `entities` (the groups a run started). */
export async function consumerLag(
  admin: KafkaAdmin,
  names: TopicNames,
  entities: readonly EntityTopic[] = ENTITY_TOPICS,
): Promise<PartitionLag[]> {
  const out: PartitionLag[] = [];
  for (const entity of entities) {
    const topic = names.topic(entity);
    const group = names.group(entity);
    const [ends, committed] = await Promise.all([admin.offsets(topic), admin.committed(group, topic)]);
    for (const p of ends) {
      const done = committed.get(p.partition);
      // no commit yet: everything since the log start is lag
      const lag = done === undefined ? p.high - p.low : Math.max(0, p.high - done);
      out.push({ group, topic, partition: p.partition, lag });
    }
  }
  return out;
}

import { afterAll, beforeAll, expect, test } from "bun:test";
import { Consumer, MessagesStreamModes } from "@platformatic/kafka";
import type { RunningConsumer } from "../../src/kafka/port.ts";
import { config, createTestTopics, type TestTopics } from "../support/kafka.ts";

// The group's offset of a partition can land behind what its owner wrote: a commit that failed, or
// an older commit the client was still retrying that lands after a newer one. The platformatic
// adapter reads its group's offsets back and commits again what stands behind. Here another member
// of the group overwrites the owner's offsets with 0; with nothing more to read, only that read-back
// brings the lag to zero again.

let t: TestTopics;
let owner: RunningConsumer | null = null;
let other: Consumer | null = null;

beforeAll(async () => {
  t = await createTestTopics("heal");
});
afterAll(async () => {
  await owner?.stop();
  await other?.close(true);
  await t.cleanup();
});

test.skipIf(config.kafkaClient !== "platformatic")(
  "an offset set back behind what its owner wrote is committed again",
  async () => {
    const topic = t.names.topic("users");
    const group = `${t.prefix}heal`;
    const writer = await t.client.writer();
    for (const partition of [0, 1, 2])
      await writer.send(
        topic,
        partition,
        Array.from({ length: 100 }, (_, i) => ({ key: null, value: `${partition}:${i}` })),
      );
    await writer.close();
    const ends = async () => new Map((await t.admin.offsets(topic)).map((o) => [o.partition, o.high]));
    const lag = async () => {
      const [high, committed] = await Promise.all([ends(), t.admin.committed(group, topic)]);
      return [0, 1, 2].map((p) => (high.get(p) ?? 0) - (committed.get(p) ?? 0));
    };
    const untilLag = async (check: (l: number[]) => boolean, ms: number) => {
      const deadline = Date.now() + ms;
      while (!check(await lag()) && Date.now() < deadline) await Bun.sleep(500);
      return lag();
    };

    let read = 0;
    owner = await t.client.consume({
      group,
      topic,
      onFatal: (err) => {
        throw err;
      },
      onBatch: async (b) => {
        read += b.messages.length;
        return true;
      },
    });
    expect(await untilLag((l) => l.every((x) => x === 0), 30_000)).toEqual([0, 0, 0]);

    // a second member joins and commits offset 0 for every partition the owner kept
    other = new Consumer({ clientId: "test-heal-other", bootstrapBrokers: [...config.kafkaBrokers], groupId: group, autocommit: false });
    const joined = new Promise<number[]>((resolve) =>
      other?.on("consumer:group:join", ({ assignments }: { assignments: { topic: string; partitions: number[] }[] }) =>
        resolve(assignments.filter((a) => a.topic === topic).flatMap((a) => a.partitions)),
      ),
    );
    await other.consume({ topics: [topic], mode: MessagesStreamModes.COMMITTED, autocommit: false });
    const its = await joined;
    const owners = [0, 1, 2].filter((p) => !its.includes(p));
    await Bun.sleep(2000); // the owner has settled into the new generation
    expect(owners.length).toBeGreaterThan(0);
    await other.commit({ offsets: owners.map((partition) => ({ topic, partition, offset: 0n, leaderEpoch: -1 })) });
    const setBack = await lag();
    for (const p of owners) expect(setBack[p]).toBe(100);

    // within two of the owner's 10 s looks, its offsets stand where it wrote them again
    expect(await untilLag((l) => l.every((x) => x === 0), 30_000)).toEqual([0, 0, 0]);
    expect(read).toBe(300); // nothing was read twice: the offsets were committed, not re-read
  },
  120_000,
);

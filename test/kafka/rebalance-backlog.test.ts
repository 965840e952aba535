import { afterAll, beforeAll, expect, test } from "bun:test";
import type { RunningConsumer } from "../../src/kafka/port.ts";
import type { EntityTopic } from "../../src/kafka/topics.ts";

/** Three topics played at once (the clicks topic's consumer is the same code): 1 in 27 as said below. */
const TOPICS: readonly EntityTopic[] = ["users", "products", "orders"];
import { createTestTopics, type TestTopics } from "../support/kafka.ts";

// A member holding a large backlog of one partition is handed another partition by a rebalance.
// The backlog it had buffered is no longer its own; the partition it gained must still be read. (A
// client that pauses fetching while its buffer is full must resume it when a rebalance empties that
// buffer, or the gained partition is never fetched again and its lag only grows.) Which partition
// the first member keeps is the group's choice, so the scenario is played on three topics at once: the
// member ends up with a partition it buffered nothing of at least once but in 1 of 27 cases.

let t: TestTopics;
const consumers: RunningConsumer[] = [];
const BACKLOG = 24_000;

beforeAll(async () => {
  t = await createTestTopics("backlog");
});
afterAll(async () => {
  await Promise.all(consumers.map((c) => c.stop()));
  await t.cleanup();
});

/** Plays the scenario on `topic`; returns how many distinct records of each partition were read. */
async function playRebalanceOverBacklog(topic: string, group: string): Promise<number[]> {
  const writer = await t.client.writer();
  const records = (partition: number, n: number) =>
    Array.from({ length: n }, (_, i) => ({ key: null, value: JSON.stringify({ partition, i }) }));
  for (let i = 0; i < BACKLOG; i += 2000) await writer.send(topic, 1, records(1, 2000));

  const seen = new Set<string>();
  let release: () => void = () => {};
  const gate = new Promise<void>((r) => (release = r));
  let firstTaken: () => void = () => {};
  const taken = new Promise<void>((r) => (firstTaken = r));
  const member = (held: boolean) =>
    t.client.consume({
      group,
      topic,
      onFatal: (err) => {
        throw err;
      },
      onBatch: async (b, control) => {
        if (held) {
          firstTaken();
          await gate; // the first member sits on its first batch while the backlog piles up behind it
        }
        if (!control.owned()) return false;
        for (const m of b.messages) seen.add(`${b.partition}:${m.offset}`);
        return true;
      },
    });

  consumers.push(await member(true)); // alone: it owns every partition and fetches the whole backlog
  await taken;
  await Bun.sleep(2000);
  const joining = [member(false), member(false)]; // three members: one partition each
  await Bun.sleep(4000);
  for (const partition of [0, 2]) await writer.send(topic, partition, records(partition, 100));
  release();
  consumers.push(...(await Promise.all(joining)));
  await writer.close();

  const deadline = Date.now() + 60_000;
  while (seen.size < BACKLOG + 200 && Date.now() < deadline) await Bun.sleep(250);
  return [0, 1, 2].map((p) => [...seen].filter((k) => k.startsWith(`${p}:`)).length);
}

test("a member whose buffered backlog moves away by a rebalance reads the partition it gained", async () => {
  const reads = await Promise.all(
    TOPICS.map(async (entity) => ({
      entity,
      read: await playRebalanceOverBacklog(t.names.topic(entity), `${t.prefix}backlog-${entity}`),
    })),
  );
  expect(reads).toEqual(TOPICS.map((entity) => ({ entity, read: [100, BACKLOG, 100] })));
}, 240_000);

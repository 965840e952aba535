import { afterAll, beforeAll, expect, test } from "bun:test";
import type { Batch, BatchControl, RunningConsumer } from "../../src/kafka/port.ts";
import { config, createTestTopics, type TestTopics } from "../support/kafka.ts";
import { until } from "../support/until.ts";

// A partition lost while its first batch was fetched and not yet written, then gained back before
// anyone committed it: the member must read it again from its start. (platformatic's stream kept
// the position it had fetched to and resumed there, so that batch was skipped for good: an order
// missing after a rolling broker restart.) platformatic's alone: kafkajs rejoins its group only
// between batches, so a member of it never loses a partition with a batch in hand.

const RECORDS = 10;
let t: TestTopics;
const running: RunningConsumer[] = [];

beforeAll(async () => {
  t = await createTestTopics("regain", undefined, 1);
});

afterAll(async () => {
  await Promise.all(running.map((c) => c.stop()));
  await t.cleanup();
});

/** A member whose first batch per partition waits until it loses the partition, or until `release()`. */
function member(name: string) {
  let released = false;
  const held = new Set<number>();
  const givenUp = new Set<number>();
  const written = new Set<string>();
  const onBatch = async (batch: Batch, control: BatchControl): Promise<boolean> => {
    if (!held.has(batch.partition)) {
      held.add(batch.partition);
      while (control.owned() && !released) await Bun.sleep(50);
      if (!control.owned()) {
        givenUp.add(batch.partition);
        return false; // never written: the partition's next owner must read it again
      }
    }
    for (const m of batch.messages) written.add(`${batch.partition}@${m.offset}`);
    return true;
  };
  return {
    name,
    held,
    givenUp,
    written,
    release: () => {
      released = true;
    },
    start: async () => {
      const c = await t.client.consume({ group: t.names.group("orders"), topic: t.names.topic("orders"), onBatch, onFatal: () => {} });
      running.push(c);
      return c;
    },
  };
}

test.skipIf(config.kafkaClient !== "platformatic")(
  "a partition gained back before anything of it was committed is read again from its start",
  async () => {
    const topic = t.names.topic("orders");
    const writer = await t.client.writer();
    await writer.send(
      topic,
      0,
      Array.from({ length: RECORDS }, (_, i) => ({ key: "k", value: `{"n":${i}}` })),
    );
    await writer.close();

    // another member joins until the group gives it the partition: a's batch is then given up
    // unwritten. Who gets the one partition is the member listed first in the broker's join answer,
    // an order set by the members' ids: for some ids of a, a newcomer almost never comes first, so
    // after two newcomers a is replaced by a member with a new id. Each join is waited out by the
    // group's own state, not a fixed time: on a loaded machine a rebalance can take longer than 8 s.
    const admin = await t.client.admin();
    const group = t.names.group("orders");
    const settled = (members: number) =>
      until(
        `the group settles with ${members} member(s)`,
        async () => {
          const g = await admin.describeGroup(group);
          return g.state === "Stable" && g.members === members;
        },
        { timeoutMs: 90_000 },
      );
    const tries: string[] = []; // what each attempt saw, for the failure's message
    let a = member("a1");
    try {
      for (let round = 1; ; round++) {
        if (round > 10) throw new Error(`the group never moved the partition from a to another member: ${tries.join("; ")}`);
        if (round > 1) a = member(`a${round}`);
        const aConsumer = await a.start();
        await until(`${a.name} holds the partition's first batch`, () => a.held.size === 1, { timeoutMs: 30_000 });
        const lost = () => a.givenUp.size > 0;
        for (let attempt = 1; attempt <= 2 && !lost(); attempt++) {
          const b = member(`b${round}.${attempt}`);
          const bConsumer = await b.start();
          const joined = Date.now();
          await settled(2);
          // a learns of its loss at its next heartbeat and rejoin: seconds on a loaded machine
          await until("the partition moves", lost, { timeoutMs: 15_000 }).catch(() => undefined);
          if (lost()) await until("b holds it", () => b.held.size === 1, { timeoutMs: 30_000 });
          const seen = `${b.held.size ? "held it" : "did not hold it"}, ${a.name} ${lost() ? "gave it up" : "kept it"}`;
          tries.push(`${b.name} ${seen} (${((Date.now() - joined) / 1000).toFixed(1)} s)`);
          await bConsumer.stop(); // b gives it up unwritten, and leaves: a gains it back
          if (!lost()) await settled(1);
        }
        if (lost()) break;
        await aConsumer.stop(); // its batch unwritten and nothing committed: the next a reads from the start
      }
    } finally {
      await admin.close();
    }
    console.log(`[regain] ${tries.join("; ")}`);
    a.release();
    await until(`a writes all ${RECORDS} records`, () => a.written.size === RECORDS, { timeoutMs: 60_000 }).catch((err: Error) => {
      throw new Error(`${err.message}: a wrote ${[...a.written].sort().join(" ") || "none"}`);
    });
    for (let i = 0; i < RECORDS; i++) expect(a.written.has(`0@${i}`)).toBe(true);
  },
  900_000, // ten members in the place of a at worst, each with two newcomers; under a minute in most runs
);

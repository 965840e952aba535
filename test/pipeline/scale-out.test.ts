import { afterAll, beforeAll, expect, test } from "bun:test";
import { idInstance } from "../../src/domain/ids.ts";
import { readTopic } from "../../src/kafka/read-topic.ts";
import type { TestDatabase } from "../../support/db.ts";
import { createdIds } from "../../support/events.ts";
import { type TestTopics, waitForZeroLag } from "../support/kafka.ts";
import type { RunningService } from "../support/services.ts";
import { openStage, type Stage } from "../support/stage.ts";
import { outputs, until } from "../support/until.ts";

// Beyond one process (docs/design.md, "Several producers"): topics of 6 partitions, two producers
// on one SEED (INSTANCE 1 and 2) and six order consumers (one per partition), all real processes.
// Every order either producer generated is stored exactly once, and no id came from both.

const PARTITIONS = 6;
const RATE = 200; // orders/s per producer
const COUNT = 2000; // orders per producer: a 10-s run

let stage: Stage;
let db: TestDatabase;
let t: TestTopics;

beforeAll(async () => {
  stage = await openStage({ label: "scaleout", partitions: PARTITIONS });
  ({ db, topics: t } = stage);
});

afterAll(() => stage?.close());

/** "stopped: N orders generated, M acknowledged", the producer's last line. */
function producerCounts(producer: RunningService): { generated: number; acknowledged: number } {
  const line = /stopped: (\d+) orders generated, (\d+) acknowledged/.exec(producer.output());
  if (!line) throw new Error(`${producer.name} printed no final count${outputs([producer])}`);
  return { generated: Number(line[1]), acknowledged: Number(line[2]) };
}

test("two producers and six consumers on six partitions: every order stored once, no id from both producers", async () => {
  const consumers = Array.from({ length: PARTITIONS }, (_, i) =>
    stage.start(`orders-${i + 1}`, "consumer.ts", ["orders"], { INSTANCE: String(i + 1) }),
  );
  await until("the six consumers consume", () => consumers.every((c) => c.output().includes("consuming")), {
    timeoutMs: 60_000,
    services: consumers,
  });
  const producers = [1, 2].map((instance) =>
    stage.start(`producer-${instance}`, "producer.ts", ["--rate", String(RATE), "--count", String(COUNT)], { INSTANCE: String(instance) }),
  );
  for (const producer of producers) {
    const code = await Promise.race([producer.proc.exited, Bun.sleep(90_000).then(() => "timeout")]);
    if (code !== 0) throw new Error(`${producer.name} exited with ${code}${outputs([producer], 4000)}`);
    expect(producerCounts(producer)).toEqual({ generated: COUNT, acknowledged: COUNT });
  }
  expect(producers[1]!.output()).toContain("[producer-2]");

  await waitForZeroLag(t.admin, t.names, 90_000, ["orders"]).catch((err: Error) => {
    throw new Error(`${err.message}${outputs(consumers)}`);
  });

  // the topics were made with six partitions, the dead letters' too, and the orders use them all
  expect(await t.admin.partitions(t.names.topic("orders"))).toHaveLength(PARTITIONS);
  expect(await t.admin.partitions(t.names.dlq("orders"))).toHaveLength(PARTITIONS);
  const published = await readTopic(t.client, t.admin, t.names.topic("orders"));
  expect(new Set(published.map((m) => m.partition)).size).toBe(PARTITIONS);

  // the two producers' ids: each its own, none in common (the distinct ids are all 2 × COUNT of them)
  const kafkaIds = [...new Set(createdIds(published))].sort();
  expect(kafkaIds).toHaveLength(2 * COUNT);
  const byInstance = Map.groupBy(kafkaIds, idInstance);
  expect([...byInstance.keys()].sort()).toEqual([1, 2]);
  expect(byInstance.get(1)).toHaveLength(COUNT);
  expect(byInstance.get(2)).toHaveLength(COUNT);

  // exactly once in PostgreSQL: the very ids Kafka holds, each in one row
  const storedIds = (await db.sql`select id from orders order by id`).map((r) => r.id as string);
  expect(storedIds).toEqual(kafkaIds);
  const [rows] = await db.sql`select count(*)::int as rows, count(distinct id)::int as ids from orders`;
  expect(rows).toEqual({ rows: 2 * COUNT, ids: 2 * COUNT });
  expect(await readTopic(t.client, t.admin, t.names.dlq("orders"))).toHaveLength(0);

  // one partition each: every consumer stored some of the orders
  const stopped = await Promise.all(consumers.map((c) => c.stop()));
  expect(stopped).toEqual(Array(PARTITIONS).fill(0));
  const storedBy = consumers.map((c) => Number(/stopped after (\d+) records stored/.exec(c.output())?.[1] ?? -1));
  expect(storedBy.every((n) => n > 0)).toBe(true);
  expect(storedBy.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(2 * COUNT); // a replayed batch counts again
});

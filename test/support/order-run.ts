import { expect } from "bun:test";
import type { TestDatabase } from "../../support/db.ts";
import { type ReadMessage, readTopic } from "../../src/kafka/read-topic.ts";
import { type TestTopics, waitForSettled } from "./kafka.ts";
import type { RunningService } from "./services.ts";
import { openStage, type Stage } from "./stage.ts";
import { createdIds } from "../../support/events.ts";

// A live order run for fault tests: a small catalogue in a database of its own, the cache loaded
// under a prefix of its own, three order consumers and a producer at a fixed rate as real service
// processes, on the shared cluster or a private one. verify() then counts, with Kafka's and
// PostgreSQL's own answers, that every generated order was acknowledged and stored exactly once.

export interface OrderRunOptions {
  label: string;
  /** A private cluster's brokers; the shared cluster by default. */
  brokers?: string[];
  rate: number;
  /** Orders the producer generates before it stops; without it, it runs until stopProducer(). */
  count?: number;
  /** Customers seeded (1,000 by default); all of them cached when `cacheAll`, as the cache-worker does under --rate. */
  users?: number;
  cacheAll?: boolean;
  /** More environment for every service of the run. */
  env?: Record<string, string>;
}

export interface OrderRun {
  db: TestDatabase;
  topics: TestTopics;
  env: Record<string, string>;
  producer: RunningService;
  consumers: RunningService[];
  /** Starts another service of the run (stopped at cleanup). */
  start: Stage["start"];
  /** Orders now in PostgreSQL. */
  stored(): Promise<number>;
  /** Stops the producer before its --count, as Ctrl-C would (it flushes); verify() then checks what it generated. */
  stopProducer(): void;
  /** SIGKILLs order consumer `i` (wherever it is in a batch) and starts a new one in its place. */
  killConsumer(i: number): Promise<void>;
  /**
   * Waits for the producer to finish its --count (or its stop), then checks the whole run; returns
   * what it counted. `deadLettered`: ids of orders the test itself published that must end in the
   * DLQ, not in PostgreSQL (none by default).
   */
  verify(opts?: { deadLettered?: ReadonlySet<string> }): Promise<RunCounts>;
  cleanup(): Promise<void>;
}

export interface RunCounts {
  generated: number;
  acknowledged: number;
  /** Records in the orders topic, duplicates from resends included. */
  inKafka: number;
  distinctInKafka: number;
  stored: number;
}

export async function startOrderRun(opts: OrderRunOptions): Promise<OrderRun> {
  const stage = await openStage({ label: opts.label, users: opts.users, cacheAll: opts.cacheAll, brokers: opts.brokers, env: opts.env });
  const { db, topics, env } = stage;
  const consumer = (i: number) => stage.start(`orders-${i + 1}`, "consumer.ts", ["orders"], { INSTANCE: String(i + 1) });
  const consumers = [0, 1, 2].map(consumer);
  const killed: RunningService[] = [];
  const countArgs = opts.count === undefined ? [] : ["--count", String(opts.count)];
  const producer = stage.start("producer", "producer.ts", ["--rate", String(opts.rate), ...countArgs]);
  let stoppedEarly = false;

  return {
    db,
    topics,
    env,
    producer,
    consumers,
    start: stage.start,
    stored: stage.stored,
    stopProducer() {
      stoppedEarly = true;
      producer.proc.kill("SIGTERM");
    },
    async killConsumer(i) {
      const old = consumers[i] as RunningService;
      old.proc.kill("SIGKILL");
      await old.proc.exited;
      killed.push(old);
      consumers[i] = consumer(i);
    },
    async verify({ deadLettered = new Set<string>() } = {}) {
      if (opts.count === undefined && !stoppedEarly) throw new Error("a run without --count needs stopProducer() before verify()");
      const code = await Promise.race([producer.proc.exited, Bun.sleep(240_000).then(() => "timeout")]);
      if (code !== 0) throw new Error(`producer exited with ${code}:\n${producer.output().slice(-4000)}`);
      const line = /stopped: (\d+) orders generated, (\d+) acknowledged/.exec(producer.output());
      expect(line).not.toBeNull();
      const [generated, acknowledged] = [Number(line![1]), Number(line![2])];
      if (stoppedEarly || opts.count === undefined) expect(generated).toBeGreaterThan(0);
      else expect(generated).toBe(opts.count);
      expect(acknowledged).toBe(generated); // the producer dropped nothing

      try {
        await waitForSettled(topics, db.sql, ["orders"], 120_000);
      } catch (err) {
        const logs = consumers.map((s) => `--- ${s.name}\n${s.output().slice(-3000)}`).join("\n");
        throw new Error(`${(err as Error).message}\n${logs}`);
      }
      const published = await readTopic(topics.client, topics.admin, topics.names.topic("orders"));
      const kafkaIds = [...new Set(createdIds(published))].sort();
      const storedIds = (await db.sql`select id from orders order by id`).map((r) => r.id as string);
      expect(kafkaIds.length).toBe(generated + deadLettered.size);
      // exactly once in PostgreSQL, the very ids Kafka holds
      const expected = kafkaIds.filter((id) => !deadLettered.has(id));
      if (storedIds.join() !== expected.join())
        console.error(mismatch(published, expected, storedIds, [producer, ...consumers, ...killed]));
      expect(storedIds).toEqual(expected);

      const [inconsistent] = await db.sql`
        select
          (select count(*) from users u where u.last_ordered_at is distinct from (select max(created_at) from orders o where o.user_id = u.id))::int as users,
          (select count(*) from products p where p.order_count <> (select count(*) from orders o where o.product_id = p.id))::int as products`;
      expect(inconsistent).toEqual({ users: 0, products: 0 });
      const dead = await readTopic(topics.client, topics.admin, topics.names.dlq("orders"));
      expect(new Set(createdIds(dead.map((d) => ({ ...d, value: (JSON.parse(d.value) as { value: string }).value }))))).toEqual(
        new Set(deadLettered),
      );

      // failures are summarised: no log line names an order, and the whole log stays short
      for (const s of [producer, ...consumers, ...killed]) {
        expect(s.output()).not.toMatch(/\bO_[0-9a-f-]{8,}/);
        expect(s.output().split("\n").length).toBeLessThan(400);
      }
      return { generated, acknowledged, inKafka: published.length, distinctInKafka: kafkaIds.length, stored: storedIds.length };
    },
    cleanup: () => stage.close(),
  };
}

/** Where the orders missing from PostgreSQL (or extra in it) sit in Kafka, and what the services said: for a failure's post-mortem. */
function mismatch(
  published: readonly ReadMessage[],
  expected: readonly string[],
  stored: readonly string[],
  services: readonly RunningService[],
): string {
  const storedSet = new Set(stored);
  const expectedSet = new Set(expected);
  const missing = expected.filter((id) => !storedSet.has(id));
  const extra = stored.filter((id) => !expectedSet.has(id));
  const where = missing.slice(0, 10).map((id) => {
    const copies = published.filter((m) => m.value.includes(`"id":"${id}"`)).map((m) => `${m.partition}@${m.offset}`);
    return `${id} at ${copies.join(", ")}`;
  });
  const logs = services.map((s) => `--- ${s.name}\n${s.output().slice(-3000)}`).join("\n");
  return `[order run] ${missing.length} order(s) in Kafka missing from PostgreSQL, ${extra.length} stored that Kafka does not hold\n${where.join("\n")}\n${logs}`;
}

import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { MultipleErrors, ResponseError, UserError } from "@platformatic/kafka";
import { KafkaJSNonRetriableError, KafkaJSNumberOfRetriesExceeded, KafkaJSProtocolError } from "kafkajs";
import { KAFKA_CLIENTS, type KafkaClientName } from "../../src/config.ts";
import { createKafkaClient } from "../../src/kafka/client.ts";
import { partitionFor } from "../../src/kafka/partitioner.ts";
import type { BatchingProducer } from "../../src/kafka/batching-producer.ts";
import { readTopic } from "../../src/kafka/read-topic.ts";
import { classifySend, groupRefused, PartitionUnknown, pastMetadataSettling, SendRejected } from "../../src/kafka/send-errors.ts";
import { config, createTestTopics, type TestTopics } from "../support/kafka.ts";
import { until } from "../support/until.ts";

// Permanent failures are told from transient ones by Kafka's own error codes, whichever client
// reports them: what waiting can fix is resent, what it cannot is rejected to the caller within a
// bound, and the producer goes on serving its other topics.

// kafkajs' own table turns a broker's error code into the error it throws (as its decoders do)
const { createErrorFromCode } = require("kafkajs/src/protocol/error.js") as {
  createErrorFromCode(code: number): { type: string; code: number; message: string; retriable: boolean };
};

// how kafkajs' retrier gives up on an error it may not retry (its types leave the option out)
const NonRetriable = KafkaJSNonRetriableError as unknown as new (e: Error, opts: { cause: Error }) => Error;

/** A failed send as each client reports a broker's error `code`: wrapped the way its producer wraps it. */
const failedSend: Record<KafkaClientName, (code: number) => unknown> = {
  kafkajs: (code) => {
    const protocol = new KafkaJSProtocolError(createErrorFromCode(code) as unknown as Error);
    return protocol.retriable
      ? new KafkaJSNumberOfRetriesExceeded(protocol, { retryCount: 5, retryTime: 2000 })
      : new NonRetriable(protocol, { cause: protocol });
  },
  platformatic: (code) =>
    new MultipleErrors("Producing messages failed.", [new ResponseError(0, 9, { "/topics/0/partitions/0": [code, null] }, {})]),
};

const CODES: [code: number, name: string, kind: ReturnType<typeof classifySend>][] = [
  [6, "NOT_LEADER_OR_FOLLOWER", "metadata"],
  [5, "LEADER_NOT_AVAILABLE", "metadata"],
  [3, "UNKNOWN_TOPIC_OR_PARTITION", "metadata"],
  [74, "FENCED_LEADER_EPOCH", "metadata"],
  [19, "NOT_ENOUGH_REPLICAS", "transient"],
  [20, "NOT_ENOUGH_REPLICAS_AFTER_APPEND", "transient"],
  [7, "REQUEST_TIMED_OUT", "transient"],
  [45, "OUT_OF_ORDER_SEQUENCE_NUMBER", "transient"],
  [10, "MESSAGE_TOO_LARGE", "too-large"],
  [18, "RECORD_LIST_TOO_LARGE", "too-large"],
  [87, "INVALID_RECORD", "bad-record"],
  [17, "INVALID_TOPIC_EXCEPTION", "refused"],
  [29, "TOPIC_AUTHORIZATION_FAILED", "refused"],
];

describe("each client's errors, classified by Kafka's codes", () => {
  for (const name of KAFKA_CLIENTS)
    test(name, async () => {
      const client = await createKafkaClient({ ...config, kafkaClient: name }, `test-classify-${name}`); // connects to nothing
      for (const [code, , kind] of CODES) expect([code, classifySend(client.errorNames(failedSend[name](code)))]).toEqual([code, kind]);
      // a broken connection, a timeout: nothing Kafka named, resent
      expect(classifySend(client.errorNames(new Error("Connection error: ECONNREFUSED")))).toBe("transient");
      // a partition the client's metadata lacks, and platformatic's own word for a missing topic
      expect(classifySend(client.errorNames(new PartitionUnknown("t", 5, 3)))).toBe("metadata");
      if (name === "platformatic")
        expect(client.errorNames(new UserError("Unknown topic orders."))).toEqual(["UNKNOWN_TOPIC_OR_PARTITION"]);
    });
});

test("a platformatic consumer that cannot join its group: a coordinator loading or moving is waited out, a refusal of the group is not", async () => {
  const client = await createKafkaClient({ ...config, kafkaClient: "platformatic" }, "test-classify-join"); // connects to nothing
  // as the client's joinGroup gives up: its attempts' errors gathered in one
  const joinFailed = (code: number) =>
    new MultipleErrors("joinGroup failed 13 times.", [
      new ResponseError(11, 9, { "/": [code, null] }, {}),
      new ResponseError(11, 9, { "/": [code, null] }, {}),
    ]);
  const waited = [14, 15, 16, 27].map((code) => groupRefused(client.errorNames(joinFailed(code)))); // loading, not available, not the coordinator, rebalancing
  const refused = [24, 30, 26, 23].map((code) => groupRefused(client.errorNames(joinFailed(code)))); // group id, group rights, session timeout, protocol
  expect(waited).toEqual([false, false, false, false]);
  expect(refused).toEqual([true, true, true, true]);
  expect(groupRefused(client.errorNames(new Error("Connection error: ECONNREFUSED")))).toBe(false);
});

test("an admin read past the metadata settling: retried while a leader moves or a listed topic settles, never on an error waiting cannot fix", async () => {
  const names = (err: unknown) => [(err as Error).message];
  const failing = (error: string, succeedOn = Infinity) => {
    let tries = 0;
    const work = async () => {
      if (++tries < succeedOn) throw new Error(error);
      return "offsets";
    };
    return { work, tries: () => tries };
  };
  const listed = async () => true;
  const gone = async () => false;
  // a leader moving: tried again until it answers
  const moving = failing("NOT_LEADER_OR_FOLLOWER", 3);
  expect([await pastMetadataSettling(moving.work, names, gone), moving.tries()]).toEqual(["offsets", 3]);
  // a topic just recreated, listed but not yet known to the broker asked: tried again
  const recreated = failing("UNKNOWN_TOPIC_OR_PARTITION", 2);
  expect([await pastMetadataSettling(recreated.work, names, listed), recreated.tries()]).toEqual(["offsets", 2]);
  // a topic the cluster does not list, and a refusal: the caller's at once
  for (const [error, isListed] of [
    ["UNKNOWN_TOPIC_OR_PARTITION", gone],
    ["TOPIC_AUTHORIZATION_FAILED", listed],
  ] as const) {
    const once = failing(error);
    await expect(pastMetadataSettling(once.work, names, isListed)).rejects.toThrow(error);
    expect(once.tries()).toBe(1);
  }
});

describe(`on real Kafka (${config.kafkaClient})`, () => {
  let t: TestTopics;
  let producer: BatchingProducer;
  const outcome = (p: Promise<unknown>) =>
    p.then(
      () => ({ acked: true, at: Date.now(), err: null }),
      (err: unknown) => ({ acked: false, at: Date.now(), err }),
    );

  beforeAll(async () => {
    t = await createTestTopics("send-errors");
    producer = await t.producer();
  });
  afterAll(async () => {
    await t.cleanup();
  });

  test("a send to a topic name the cluster refuses is rejected at once, saying why", async () => {
    const started = Date.now();
    const sent = await outcome(producer.send(`${t.prefix}no such topic!`, { key: "k", value: "v" }));
    expect(sent.acked).toBe(false);
    expect(sent.err).toBeInstanceOf(SendRejected);
    expect((sent.err as SendRejected).kind).toBe("refused");
    expect((sent.err as Error).message).toContain("no such topic!");
    expect(sent.at - started).toBeLessThan(10_000);
    expect(producer.pending).toBe(0);
  });

  test("a topic deleted and recreated within the bound: sends while it is missing are resent until it is back", async () => {
    const topic = t.names.topic("products");
    await producer.send(topic, { key: "P_before", value: "before" }); // its lanes are open
    await t.admin.deleteTopics([topic]);
    await until("the topic deleted", async () => !(await t.admin.listTopics()).includes(topic));
    const retriesBefore = producer.retries;
    const during = Array.from({ length: 20 }, (_, i) => outcome(producer.send(topic, { key: `P_${i}`, value: `during ${i}` })));
    await Bun.sleep(3000); // sends fail meanwhile (the topic is gone), and are resent
    await t.admin.createTopics([{ topic, numPartitions: 3, replicationFactor: 3, configEntries: [] }]);
    const results = await Promise.all(during);
    expect(results.filter((r) => !r.acked).map((r) => String(r.err))).toEqual([]);
    expect(producer.retries).toBeGreaterThan(retriesBefore);
    const values = new Set((await readTopic(t.client, t.admin, topic)).map((m) => m.value));
    for (let i = 0; i < 20; i++) expect(values.has(`during ${i}`)).toBe(true);
  }, 90_000);

  test("a topic recreated with fewer partitions: what waited for the partitions gone is routed over the new count", async () => {
    const topic = `${t.prefix}shrinking`;
    const spec = (numPartitions: number) => ({ topic, numPartitions, replicationFactor: 3, configEntries: [] });
    await t.admin.createTopics([spec(6)]);
    await until("6 partitions with leaders", async () => (await t.admin.partitions(topic)).filter((p) => p.leader >= 0).length === 6);
    const keys = Array.from({ length: 60 }, (_, i) => `U_${i}`);
    await Promise.all(keys.map((key) => producer.send(topic, { key, value: "before" }))); // a lane per partition
    await t.admin.deleteTopics([topic]);
    await until("the topic deleted", async () => !(await t.admin.listTopics()).includes(topic));
    const during = keys.map((key) => outcome(producer.send(topic, { key, value: "during" })));
    await Bun.sleep(2000);
    await t.admin.createTopics([spec(3)]);
    const results = await Promise.all(during);
    expect(results.filter((r) => !r.acked).map((r) => String(r.err))).toEqual([]);
    const stored = (await readTopic(t.client, t.admin, topic)).filter((m) => m.value === "during");
    expect(stored.map((m) => m.key).sort()).toEqual([...keys].sort()); // every one, where its key belongs among 3
    for (const m of stored) expect([m.key, m.partition]).toEqual([m.key, partitionFor(m.key, 3, () => 0)]);
    // a send to a partition of its own that no longer exists is rejected, after one more look
    const own = await outcome(producer.send(topic, { key: "k", value: "v" }, 5));
    expect((own.err as SendRejected | null)?.kind).toBe("no-partition");
  }, 90_000);

  test("a topic deleted for good: its sends are rejected within the bound, and the producer goes on serving the others", async () => {
    const gone = t.names.topic("orders");
    const other = t.names.topic("users");
    await producer.send(gone, { key: "U_1", value: "before" });
    await t.admin.deleteTopics([gone]);
    await until("the topic deleted", async () => !(await t.admin.listTopics()).includes(gone));
    const deletedAt = Date.now();
    const toGone: Promise<{ acked: boolean; at: number; err: unknown }>[] = [];
    const toOther: Promise<{ acked: boolean; at: number; err: unknown }>[] = [];
    let firstRejection = 0;
    for (let i = 0; firstRejection === 0 && Date.now() - deletedAt < 90_000; i++) {
      const g = outcome(producer.send(gone, { key: `U_${i % 7}`, value: `gone ${i}` }));
      g.then((r) => !r.acked && firstRejection === 0 && (firstRejection = r.at));
      toGone.push(g);
      toOther.push(outcome(producer.send(other, { key: `U_${i % 7}`, value: `other ${i}` })));
      await Bun.sleep(100);
    }
    const rejectedAfter = firstRejection - deletedAt;
    const gone_ = await Promise.all(toGone);
    const other_ = await Promise.all(toOther);
    console.log(`[faults] ${config.kafkaClient}: sends to a deleted topic rejected ${rejectedAfter} ms after its deletion`);
    expect(firstRejection).toBeGreaterThan(0);
    expect(rejectedAfter).toBeGreaterThanOrEqual(config.kafkaMissingTopicS * 1000 - 1000); // it was waited for
    expect(rejectedAfter).toBeLessThan(config.kafkaMissingTopicS * 1000 + 15_000);
    expect(gone_.every((r) => !r.acked)).toBe(true);
    for (const r of gone_) {
      expect(r.err).toBeInstanceOf(SendRejected);
      expect((r.err as SendRejected).kind).toBe("missing-topic");
    }
    expect((gone_[0]?.err as Error).message).toContain(`not sent to ${gone}: the topic does not exist`);
    // the other topic was served all along, and still is
    expect(other_.filter((r) => !r.acked)).toEqual([]);
    const after = await Promise.all(
      Array.from({ length: 10 }, (_, i) => outcome(producer.send(other, { key: `U_${i}`, value: `after ${i}` }))),
    );
    expect(after.filter((r) => !r.acked)).toEqual([]);
    // a later send to the topic still gone is rejected after one look, not after the bound again
    const started = Date.now();
    const late = await outcome(producer.send(gone, { key: "U_late", value: "late" }));
    expect(late.acked).toBe(false);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(producer.pending).toBe(0);
  }, 120_000);
});

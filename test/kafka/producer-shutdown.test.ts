import { expect, test } from "bun:test";
import type { KafkaClient } from "../../src/kafka/port.ts";
import { BatchingProducer } from "../../src/kafka/batching-producer.ts";

// The batching producer at shutdown, against a stand-in for the Kafka port whose brokers are as slow
// or as absent as each test needs.

function fakeKafka(opts: { connect?: () => Promise<void>; send?: () => Promise<void> }, events: string[] = []): KafkaClient {
  return {
    name: "kafkajs",
    brokers: ["nowhere:9092"],
    admin: async () =>
      ({
        partitions: async () => [{ partition: 0, leader: 1 }],
        close: async () => {},
      }) as unknown as Awaited<ReturnType<KafkaClient["admin"]>>,
    writer: async () => {
      await (opts.connect?.() ?? Promise.resolve());
      events.push("connected");
      return {
        send: async () => {
          await (opts.send?.() ?? Promise.resolve());
          events.push("sent");
          return null;
        },
        close: async () => {
          events.push("disconnected");
        },
      };
    },
    consume: async () => {
      throw new Error("not used");
    },
    errorNames: () => [],
  };
}

test("whenRoom() waits while the buffer is full and returns at once when the stop comes", async () => {
  const never = () => new Promise<void>(() => {}); // Kafka never acknowledges
  const producer = new BatchingProducer(fakeKafka({ send: never }), { capacity: 1 });
  const lost = producer.send("t", { key: "k", value: "v" }).then(
    () => "acked",
    () => "lost",
  );
  const stop = new AbortController();
  let roomAt = 0;
  const waited = producer.whenRoom(stop.signal).then(() => (roomAt = performance.now()));
  await Bun.sleep(200);
  expect(roomAt).toBe(0); // full: the generator waits
  const abortedAt = performance.now();
  stop.abort();
  await Promise.race([waited, Bun.sleep(5000)]);
  // it returned on the stop: nothing else frees room here, Kafka never acknowledges (no timing
  // bound: 50 ms was missed under CI load)
  expect(roomAt).toBeGreaterThanOrEqual(abortedAt);
  expect(await producer.close(100)).toBe(1);
  expect(await lost).toBe("lost");
  await producer.whenRoom(); // abandoned: never waits again
});

test("a lane still connecting when close() gives up sends nothing and disconnects", async () => {
  const events: string[] = [];
  const producer = new BatchingProducer(fakeKafka({ connect: () => Bun.sleep(300) }, events));
  const outcome = producer.send("t", { key: "k", value: "v" }).then(
    () => "acked",
    () => "lost",
  );
  expect(await producer.close(100)).toBe(1); // the lane is still connecting its producer
  expect(await outcome).toBe("lost");
  await Bun.sleep(500);
  // the message was reported lost: delivering it now would make it a duplicate nobody counts, and
  // the connection would be left open
  expect(events).toEqual(["connected", "disconnected"]);
});

test("a message sent after close() is rejected at once, not left waiting for a stopped lane", async () => {
  const events: string[] = [];
  const producer = new BatchingProducer(fakeKafka({}, events));
  await producer.send("t", { key: "k", value: "before" });
  expect(await producer.close(1000)).toBe(0);
  const late = await producer.send("t", { key: "k", value: "after" }).then(
    () => "acked",
    (err: Error) => err.message,
  );
  expect(late).toContain("after close()");
  expect(producer.pending).toBe(0);
  expect(events.filter((e) => e === "sent")).toHaveLength(1);
});

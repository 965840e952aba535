import { expect, test } from "bun:test";
import { Partitioners } from "kafkajs";
import { murmur2, murmur2Partitioner } from "../../src/kafka/producer.ts";

// The bench moved the producer off kafkajs' BigInt murmur2 onto a 32-bit one (bench/RESULTS.md):
// every key must still land on the partition kafkajs' DefaultPartitioner (and Java's) picks.

test("murmur2 matches Java's test vectors", () => {
  // org.apache.kafka.common.utils.UtilsTest#testMurmur2
  expect(murmur2(Buffer.from("21"))).toBe(-973932308);
  expect(murmur2(Buffer.from("foobar"))).toBe(-790332482);
  expect(murmur2(Buffer.from("a-little-bit-long-string"))).toBe(-985981536);
  expect(murmur2(Buffer.from("a-little-bit-longer-string"))).toBe(-1486304829);
  expect(murmur2(Buffer.from("lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8"))).toBe(-58897971);
  expect(murmur2(Buffer.from([97, 98, 99]))).toBe(479470107); // new byte[]{'a', 'b', 'c'}
});

test("every key lands on the partition kafkajs' DefaultPartitioner picks", () => {
  const ours = murmur2Partitioner();
  const theirs = Partitioners.DefaultPartitioner();
  for (const partitions of [1, 3, 7]) {
    const partitionMetadata = Array.from({ length: partitions }, (_, i) => ({
      partitionId: i,
      leader: i,
      partitionErrorCode: 0,
      replicas: [i],
      isr: [i],
    }));
    for (let i = 0; i < 3000; i++) {
      const key = i % 2 ? `U_${crypto.randomUUID()}` : Buffer.from(crypto.getRandomValues(new Uint8Array(i % 41)));
      const message = { key, value: "v" };
      expect(ours({ topic: "t", partitionMetadata, message })).toBe(theirs({ topic: "t", partitionMetadata, message }));
    }
  }
});

test("an explicit partition wins; no key goes round robin over partitions with a leader", () => {
  const ours = murmur2Partitioner();
  const partitionMetadata = [0, 1, 2].map((i) => ({
    partitionId: i,
    leader: i === 1 ? -1 : i,
    partitionErrorCode: 0,
    replicas: [i],
    isr: [i],
  }));
  expect(ours({ topic: "t", partitionMetadata, message: { key: "k", value: "v", partition: 2 } })).toBe(2);
  const seen = new Set(Array.from({ length: 20 }, () => ours({ topic: "t", partitionMetadata, message: { value: "v" } })));
  expect([...seen].sort()).toEqual([0, 2]);
});

import { expect, test } from "bun:test";
import { compatibilityPartitioner } from "@platformatic/kafka";
import { Partitioners } from "kafkajs";
import { murmur2, partitionFor } from "../../src/kafka/partitioner.ts";

// The producer routes every key itself (src/kafka/partitioner.ts): a key must land on the partition
// Java's default partitioner picks, which is also what kafkajs' DefaultPartitioner and
// platformatic's compatibilityPartitioner pick (platformatic's own default does not).

test("murmur2 matches Java's test vectors", () => {
  // org.apache.kafka.common.utils.UtilsTest#testMurmur2
  expect(murmur2(Buffer.from("21"))).toBe(-973932308);
  expect(murmur2(Buffer.from("foobar"))).toBe(-790332482);
  expect(murmur2(Buffer.from("a-little-bit-long-string"))).toBe(-985981536);
  expect(murmur2(Buffer.from("a-little-bit-longer-string"))).toBe(-1486304829);
  expect(murmur2(Buffer.from("lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8"))).toBe(-58897971);
  expect(murmur2(Buffer.from([97, 98, 99]))).toBe(479470107); // new byte[]{'a', 'b', 'c'}
});

test("every key lands where kafkajs' DefaultPartitioner and platformatic's compatibilityPartitioner put it", () => {
  const kafkajs = Partitioners.DefaultPartitioner();
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
      const ours = partitionFor(key, partitions, () => 0);
      expect(ours).toBe(kafkajs({ topic: "t", partitionMetadata, message: { key, value: "v" } }));
      // platformatic's partitioners return a positive hash that its producer reduces modulo the count
      const buffer = typeof key === "string" ? Buffer.from(key) : key;
      expect(ours).toBe(compatibilityPartitioner({ topic: "t", key: buffer, value: Buffer.from("v") } as never, buffer) % partitions);
    }
  }
});

test("a message without a key goes round robin", () => {
  let n = 0;
  const seen = Array.from({ length: 6 }, () => partitionFor(null, 3, () => n++));
  expect(seen).toEqual([0, 1, 2, 0, 1, 2]);
});

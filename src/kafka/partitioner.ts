// Where a key lands: Java's default partitioner (murmur2 of the key's bytes, made positive, modulo
// the partition count), so a key goes to the same partition whichever client wrote it — Java's,
// kafkajs' DefaultPartitioner, platformatic's compatibilityPartitioner or ours.

/** The partition for `key`, or the next of `roundRobin()` for a message without a key. */
export function partitionFor(key: string | Buffer | null | undefined, partitions: number, roundRobin: () => number): number {
  if (key !== null && key !== undefined) return (murmur2(key) & 0x7fffffff) % partitions;
  return roundRobin() % partitions;
}

const M = 0x5bd1e995;

/**
 * Java's Utils.murmur2 (seed 0x9747b28c) over the key's bytes, as a signed 32-bit int, in 32-bit
 * integer arithmetic: kafkajs computes it with BigInt-backed 64-bit longs, which took a quarter of
 * the producer's CPU at full rate. Only the low 32 bits ever reach the result, so Math.imul gives
 * the identical hash (checked against Java's test vectors in test/kafka/partitioner.test.ts).
 */
export function murmur2(key: Buffer | string): number {
  const data = Buffer.isBuffer(key) ? key : Buffer.from(String(key));
  const length = data.length;
  let h = (0x9747b28c ^ length) | 0;
  const words = length >>> 2;
  for (let i = 0; i < words; i++) {
    const j = i * 4;
    let k = (data[j] as number) | ((data[j + 1] as number) << 8) | ((data[j + 2] as number) << 16) | ((data[j + 3] as number) << 24);
    k = Math.imul(k, M);
    k ^= k >>> 24;
    k = Math.imul(k, M);
    h = Math.imul(h, M) ^ k;
  }
  const tail = length & ~3;
  const rest = length & 3;
  if (rest > 0) {
    if (rest === 3) h ^= (data[tail + 2] as number) << 16;
    if (rest >= 2) h ^= (data[tail + 1] as number) << 8;
    h ^= data[tail] as number;
    h = Math.imul(h, M);
  }
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h | 0;
}

import type { CacheSnapshot } from "../../src/cache/snapshot.ts";
import { OrderGenerator } from "../../src/domain/order-generator.ts";
import { Rng } from "../../src/domain/random.ts";
import type { Order } from "../../src/domain/types.ts";
import { encode } from "../../src/kafka/envelope.ts";

/** The shipped generator over a cache snapshot, as the producer builds it at a cache generation. */
export function cachedGenerator(snapshot: CacheSnapshot, seed: string, topN: number, at = new Date()): OrderGenerator {
  const generator = new OrderGenerator(new Rng(seed), topN);
  generator.refresh(snapshot.users, snapshot.products, at);
  if (!generator.ready) throw new Error("the cache snapshot has no users or products");
  return generator;
}

/**
 * `n` orders from the shipped generator over the run's cache, one millisecond apart from `t0`: the
 * same kind of rows the Kafka ON and OFF phases write (same catalogue, cache and draws).
 */
export function generateOrders(snapshot: CacheSnapshot, seed: string, n: number, topN: number, t0 = Date.now()): Order[] {
  const generator = cachedGenerator(snapshot, seed, topN, new Date(t0));
  const orders: Order[] = new Array(n);
  for (let i = 0; i < n; i++) orders[i] = generator.next(new Date(t0 + i));
  return orders;
}

/** Mean encoded size of the orders' Kafka value and key, in bytes. */
export function recordSizes(orders: readonly Order[]): { valueBytes: number; keyBytes: number } {
  let valueBytes = 0;
  let keyBytes = 0;
  for (const o of orders) {
    valueBytes += Buffer.byteLength(encode("orders", o));
    keyBytes += Buffer.byteLength(o.user_id);
  }
  return { valueBytes: valueBytes / orders.length, keyBytes: keyBytes / orders.length };
}

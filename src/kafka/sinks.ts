import type { Sql } from "../db/client.ts";
import { insertOrders, insertProducts, insertUsers } from "../db/writers.ts";
import type { Sink } from "./consumer.ts";
import type { EntityTopic } from "./topics.ts";

/** Where each topic's records land in PostgreSQL: one batched statement per table per batch. */
export function postgresSink<E extends EntityTopic>(sql: Sql, entity: E): Sink<E> {
  const sinks: { [K in EntityTopic]: Sink<K> } = {
    users: async (users) => (await insertUsers(sql, users), { retryIds: [] }),
    products: async (products) => (await insertProducts(sql, products), { retryIds: [] }),
    orders: async (orders) => ({ retryIds: (await insertOrders(sql, orders)).missingRefs }),
  };
  return sinks[entity] as Sink<E>;
}

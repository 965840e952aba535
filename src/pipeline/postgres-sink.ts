import type { Sql } from "../db/client.ts";
import { classifyDbError } from "../db/errors.ts";
import { insertOrders, insertProducts, insertUsers, type Conflict } from "../db/writers.ts";
import { type Sink, SinkError, type SinkResult } from "../kafka/consumer.ts";
import type { EntityTopic } from "../kafka/topics.ts";

// Where Kafka meets PostgreSQL: each topic's records land with one batched statement per table per
// batch, and database errors are told apart for the consumer (permanent: isolate and dead-letter
// the record; transient: pause and retry).

export function postgresSink<E extends EntityTopic>(sql: Sql, entity: E): Sink<E> {
  const sinks: { [K in EntityTopic]: Sink<K> } = {
    users: async (users) => result([], (await insertUsers(sql, users)).conflicts),
    products: async (products) => result([], (await insertProducts(sql, products)).conflicts),
    orders: async (orders) => {
      const r = await insertOrders(sql, orders);
      return result(r.missingRefs, r.conflicts);
    },
  };
  const sink = sinks[entity] as Sink<E>;
  return async (items) => {
    try {
      return await sink(items);
    } catch (err) {
      const { permanent, sqlstate } = classifyDbError(err);
      throw new SinkError(err instanceof Error ? err.message : String(err), { permanent, sqlstate, cause: err });
    }
  };
}

function result(retryIds: string[], conflicts: Conflict[]): SinkResult {
  return {
    retryIds,
    rejected: conflicts.map((c) => ({
      id: c.id,
      reason: `duplicate id with different content (${c.columns.join(", ")} differ from the stored row)`,
    })),
  };
}

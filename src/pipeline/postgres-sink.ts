import { type Db, withDb } from "../db/bounded.ts";
import type { Sql } from "../db/client.ts";
import { classifyDbError } from "../db/errors.ts";
import type { Schedule } from "../domain/order-status.ts";
import { applyTransitions } from "../lifecycle/store.ts";
import { type Conflict, insertClicks, insertOrders, insertProducts, insertUsers } from "../db/writers.ts";
import type { StatusChange } from "../domain/types.ts";
import { describe } from "../errors.ts";
import { type Sink, SinkError, type SinkResult } from "./sink.ts";
import { isStatusChange } from "../kafka/envelope.ts";
import type { EntityTopic } from "../kafka/topics.ts";

// Where Kafka meets PostgreSQL: each topic's records land with one batched statement per table per
// batch, and database errors are told apart for the consumer (permanent: isolate and dead-letter
// the record; transient: pause and retry). The orders topic carries new orders and their lifecycle
// steps: new orders first, then the steps (a pass never holds an order and its own step). On a
// BoundedPool (the consumers' own) every write has a deadline: a database that hangs fails it as
// transient instead of holding the partition for as long as TCP keeps the connection open.

export interface SinkOptions {
  /** Each order's next lifecycle step (from the plan the lifecycle service follows); none: orders keep no schedule. */
  schedule?: Schedule;
  /** Told of the lifecycle steps each write applied (for the metrics). */
  onTransitions?(applied: StatusChange[]): void;
}

export function postgresSink<E extends EntityTopic>(db: Db, entity: E, opts: SinkOptions = {}): Sink<E> {
  type Write<K extends EntityTopic> = (sql: Sql, ...args: Parameters<Sink<K>>) => ReturnType<Sink<K>>;
  const writes: { [K in EntityTopic]: Write<K> } = {
    users: async (sql, users) => result([], (await insertUsers(sql, users)).conflicts),
    products: async (sql, products) => result([], (await insertProducts(sql, products)).conflicts),
    clicks: async (sql, clicks) => result([], (await insertClicks(sql, clicks)).conflicts),
    orders: async (sql, items, source) => {
      const created = items.filter((i) => !isStatusChange(i)) as Exclude<(typeof items)[number], StatusChange>[];
      const r = await insertOrders(sql, created, { schedule: opts.schedule });
      const out = result(r.missingRefs, r.conflicts);
      const steps = items.flatMap((item, i) => (isStatusChange(item) ? [{ item, offset: source.offsets[i] as string }] : []));
      if (steps.length === 0) return out;
      const t = await applyTransitions(
        sql,
        steps.map((s) => s.item),
        { partition: source.partition, offsets: steps.map((s) => s.offset) },
        opts.schedule ?? (() => null),
      );
      if (t.applied.length) opts.onTransitions?.(t.applied);
      return { retry: [...out.retry, ...t.retry], rejected: [...out.rejected, ...t.rejected] };
    },
  };
  const write = writes[entity] as Write<E>;
  const what = `the write of ${entity}`;
  return async (items, source) => {
    try {
      return await withDb(db, what, (sql) => write(sql, items, source));
    } catch (err) {
      const { permanent, sqlstate } = classifyDbError(err);
      throw new SinkError(describe(err), { retriable: !permanent, sqlstate, cause: err });
    }
  };
}

function result(missingRefs: string[], conflicts: Conflict[]): SinkResult {
  return {
    retry: missingRefs.map((id) => ({ id, reason: "references a user or product that did not arrive" })),
    rejected: conflicts.map((c) => ({
      id: c.id,
      reason: `duplicate id with different content (${c.columns.join(", ")} differ from the stored row)`,
    })),
  };
}

import type { ReadMessage } from "../src/kafka/read-topic.ts";

/**
 * The ids of the entities born in these records (user_created, product_created, order_created),
 * in record order; the orders topic's lifecycle steps are left out.
 */
export function createdIds(messages: readonly ReadMessage[]): string[] {
  return messages.flatMap((m) => {
    const event = JSON.parse(m.value) as { event_type: string; data: { id: string } };
    return event.event_type.endsWith("_created") ? [event.data.id] : [];
  });
}

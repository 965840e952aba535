import type { FramedReader } from "../src/kafka/envelope.ts";
import type { ReadMessage } from "../src/kafka/read-topic.ts";

/**
 * The ids of the entities born in these records (user_created, product_created, order_created),
 * in record order; the orders topic's lifecycle steps are left out. Values in a registry format
 * are read with `framed` (a SchemaReader that has fetched their schemas).
 */
export function createdIds(messages: readonly ReadMessage[], framed?: FramedReader): string[] {
  return messages.flatMap((m) => {
    const registryFormat = m.bytes !== null && m.bytes[0] === 0 && framed;
    const event = (registryFormat ? framed.read(m.bytes as Buffer) : JSON.parse(m.value)) as { event_type: string; data: { id: string } };
    return event.event_type.endsWith("_created") ? [event.data.id] : [];
  });
}

import { findErrorBy } from "@platformatic/kafka";
import { kafkaErrorNames } from "../send-errors.ts";

/**
 * The Kafka names in a platformatic error (its protocol errors' apiId, wrapped two levels deep); a
 * topic missing from the metadata is a plain "Unknown topic" error there, the library's only sign.
 */
export function errorNames(err: unknown): string[] {
  return kafkaErrorNames(err, (e) => {
    const { apiId, code, message } = e as { apiId?: unknown; code?: unknown; message?: unknown };
    if (typeof apiId === "string") return apiId;
    if (code === "PLT_KFK_USER" && typeof message === "string" && message.startsWith("Unknown topic ")) return "UNKNOWN_TOPIC_OR_PARTITION";
    return undefined;
  });
}

/** Whether `err` or an error nested in it (platformatic wraps protocol errors two levels deep) has `key` = `value`. */
export function hasError(err: unknown, key: string, value: unknown): boolean {
  return err instanceof Error && findErrorBy(err, key as never, value as never) !== null;
}

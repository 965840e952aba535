import { ShopstreamError } from "../errors.ts";
import { POLICIES, retry } from "../retry.ts";

// Why a send failed, told apart by Kafka's own error names (the same on both clients, which the
// adapters dig out of their wrappers): what waiting can fix is resent, what it cannot is rejected
// to the caller (docs/design.md, "Faults"). Anything not named here counts as transient: a
// message is never dropped on a guess.

export type SendFailure =
  /** The batch, or one record of it, is larger than the broker takes: split; a single record is rejected. */
  | "too-large"
  /** The broker refuses a record of the batch for its content: split; a single record is rejected. */
  | "bad-record"
  /** The cluster refuses the topic itself (its name, our rights): every record to it is rejected. */
  | "refused"
  /** The topic or partition is unknown, or its leader moved: look at the metadata again, then resend. */
  | "metadata"
  /** Broker loss, too few in-sync replicas, timeouts, anything else: resend with backoff. */
  | "transient";

const TOO_LARGE = new Set(["MESSAGE_TOO_LARGE", "RECORD_LIST_TOO_LARGE"]);
const BAD_RECORD = new Set(["INVALID_RECORD", "INVALID_TIMESTAMP"]);
const REFUSED = new Set([
  "INVALID_TOPIC_EXCEPTION",
  "TOPIC_AUTHORIZATION_FAILED",
  "CLUSTER_AUTHORIZATION_FAILED",
  "TRANSACTIONAL_ID_AUTHORIZATION_FAILED",
  "INVALID_REQUIRED_ACKS",
  "UNSUPPORTED_FOR_MESSAGE_FORMAT",
  "UNSUPPORTED_COMPRESSION_TYPE",
  "POLICY_VIOLATION",
]);
const METADATA = new Set([
  "UNKNOWN_TOPIC_OR_PARTITION",
  "LEADER_NOT_AVAILABLE",
  "NOT_LEADER_OR_FOLLOWER",
  "NOT_LEADER_FOR_PARTITION", // kafkajs' name for NOT_LEADER_OR_FOLLOWER
  "FENCED_LEADER_EPOCH",
  "UNKNOWN_LEADER_EPOCH",
  "KAFKA_STORAGE_ERROR",
]);

/** The kind of a failed send (or metadata look-up) from the Kafka error names found in it; what the broker refuses outright wins. */
export function classifySend(names: readonly string[]): SendFailure {
  const any = (set: Set<string>) => names.some((n) => set.has(n));
  if (any(REFUSED)) return "refused";
  if (any(TOO_LARGE)) return "too-large";
  if (any(BAD_RECORD)) return "bad-record";
  if (any(METADATA)) return "metadata";
  return "transient";
}

/** What the cluster refuses a consumer group for good: its name, its settings, our rights. */
const GROUP_REFUSED = new Set([
  "GROUP_AUTHORIZATION_FAILED",
  "INVALID_GROUP_ID",
  "INVALID_SESSION_TIMEOUT",
  "INCONSISTENT_GROUP_PROTOCOL",
  "UNSUPPORTED_VERSION",
  "SASL_AUTHENTICATION_FAILED",
]);

/**
 * Whether waiting cannot fix a consumer's failure to open: a refusal of its topic or group. Anything
 * else (a coordinator still loading or moving, a broker gone) is waited out.
 */
export function groupRefused(names: readonly string[]): boolean {
  return classifySend(names) === "refused" || names.some((n) => GROUP_REFUSED.has(n));
}

/**
 * An admin read of a topic just created, grown or recreated meets the metadata errors for a moment
 * (a broker that does not host the new partition yet, a leader not elected): a few more tries, 300 ms
 * apart, before the error is the caller's. A topic the cluster does not list at all is not
 * settling: its error is the caller's at once (`listed` asks the cluster).
 */
export function pastMetadataSettling<T>(
  work: () => Promise<T>,
  errorNames: (err: unknown) => string[],
  listed: () => Promise<boolean>,
): Promise<T> {
  return retry(
    async () => {
      try {
        return await work();
      } catch (err) {
        const names = errorNames(err);
        if (classifySend(names) !== "metadata") throw new NotSettling(err);
        if (names.includes("UNKNOWN_TOPIC_OR_PARTITION") && !(await listed().catch(() => true))) throw new NotSettling(err);
        throw err;
      }
    },
    { ...POLICIES.kafkaSettling, retriable: (err) => !(err instanceof NotSettling) },
  ).catch((err) => {
    throw err instanceof NotSettling ? err.cause : err;
  });
}

/** Wraps an error that waiting cannot fix, so that the retry loop gives it up at once. */
class NotSettling extends Error {
  constructor(override readonly cause: unknown) {
    super("not settling");
  }
}

/**
 * Every Kafka error name in `err` and the errors it wraps (cause, kafkajs' originalError,
 * platformatic's errors), as `nameOf` reads one error; PartitionUnknown counts as
 * UNKNOWN_TOPIC_OR_PARTITION.
 */
export function kafkaErrorNames(err: unknown, nameOf: (e: object) => string | undefined): string[] {
  const names: string[] = [];
  const seen = new Set<object>();
  const walk = (e: unknown, depth: number) => {
    if (typeof e !== "object" || e === null || seen.has(e) || depth > 8) return;
    seen.add(e);
    const name = e instanceof PartitionUnknown ? "UNKNOWN_TOPIC_OR_PARTITION" : nameOf(e);
    if (name) names.push(name);
    const o = e as { cause?: unknown; originalError?: unknown; errors?: unknown };
    walk(o.cause, depth + 1);
    walk(o.originalError, depth + 1);
    if (Array.isArray(o.errors)) for (const inner of o.errors) walk(inner, depth + 1);
  };
  walk(err, 0);
  return names;
}

/**
 * A writer's metadata does not have the partition yet (a partition just added) or any more (the
 * topic recreated with fewer). Neither client fails such a send by itself: kafkajs acknowledges it
 * without sending anything, platformatic sends it to the partition number modulo the count it knows.
 */
export class PartitionUnknown extends ShopstreamError {
  constructor(topic: string, partition: number, known?: number) {
    const count = known === undefined ? "" : ` (${known} partition(s) known)`;
    super(`partition ${partition} of ${topic} is not in the client's metadata${count}`, { retriable: true });
  }
}

/** What a caller's send is rejected with when Kafka can never take the message: it is not sent. */
export class SendRejected extends ShopstreamError {
  constructor(
    readonly topic: string,
    readonly kind: "missing-topic" | "refused" | "too-large" | "bad-record" | "no-partition",
    message: string,
    cause?: unknown,
  ) {
    super(`not sent to ${topic}: ${message}`, { cause, retriable: false });
  }
}

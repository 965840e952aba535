import type { Rng } from "./random.ts";

// Data-quality chaos with an answer key (docs/design.md, "Chaos"): which faults a profile injects
// into which topic, at what rates, and what each does to a record. Pure: the sender
// (src/pipeline/chaos-sender.ts) puts them on the wire and writes the key.

export const CHAOS_KINDS = ["duplicate", "late", "out_of_order", "nulls", "drift", "poison", "early"] as const;
export type ChaosKind = (typeof CHAOS_KINDS)[number];
/** What a profile names: the entity topics, and `steps`, the order lifecycle's steps (on the orders topic). */
export type ChaosTopic = "users" | "products" | "orders" | "clicks" | "steps";
const CHAOS_TOPICS: readonly ChaosTopic[] = ["users", "products", "orders", "clicks", "steps"];

/** The share of a topic's records that get each kind (at most one kind a record). */
export type ChaosRates = Partial<Record<ChaosKind, number>>;

export interface ChaosProfile {
  name: string;
  topics: Partial<Record<ChaosTopic, ChaosRates>>;
  /** A record whose time is older than this when it is sent is late. */
  watermarkMinutes: number;
  /** How far behind its watermark a late record is: [min, max] minutes. */
  lateMinutes: [number, number];
}

/**
 * Kinds that need something of the record: out-of-order a later record of the same key (orders: a
 * customer's next order; a product's or user's id comes once), nulls a nullable field that holds a
 * value (a new user's last login; an order's, its coupon and its session, are its schema version's to fill).
 */
const APPLIES: Record<ChaosTopic, readonly ChaosKind[]> = {
  orders: ["duplicate", "late", "out_of_order", "drift", "poison"],
  products: ["duplicate", "late", "drift", "poison"],
  users: ["duplicate", "late", "nulls", "drift", "poison"],
  // a session's next click overtakes the one held back
  clicks: ["duplicate", "late", "out_of_order", "nulls", "drift", "poison"],
  // a step sent twice, or early: ahead of the step it follows
  steps: ["duplicate", "early"],
};

/** Fields the contract lets be null (src/kafka/contract.ts) that a writer fills, per topic. */
export const NULLABLE: Record<ChaosTopic, readonly string[]> = {
  orders: [],
  products: [],
  users: ["last_login_at", "last_ordered_at"],
  clicks: ["region", "query"],
  steps: [],
};

export const CHAOS_PROFILES: Record<"light" | "heavy", ChaosProfile> = {
  light: {
    name: "light",
    topics: {
      orders: { duplicate: 0.01, late: 0.005, out_of_order: 0.01, drift: 0.005, poison: 0.001 },
      products: { duplicate: 0.01, late: 0.005, drift: 0.005, poison: 0.001 },
      users: { duplicate: 0.01, late: 0.005, nulls: 0.01, drift: 0.005, poison: 0.001 },
      clicks: { duplicate: 0.01, late: 0.005, out_of_order: 0.01, nulls: 0.005, drift: 0.005, poison: 0.001 },
      steps: { duplicate: 0.01, early: 0.01 },
    },
    watermarkMinutes: 5,
    lateMinutes: [1, 60],
  },
  heavy: {
    name: "heavy",
    topics: {
      orders: { duplicate: 0.05, late: 0.03, out_of_order: 0.05, drift: 0.03, poison: 0.01 },
      products: { duplicate: 0.05, late: 0.03, drift: 0.03, poison: 0.01 },
      users: { duplicate: 0.05, late: 0.03, nulls: 0.05, drift: 0.03, poison: 0.01 },
      clicks: { duplicate: 0.05, late: 0.03, out_of_order: 0.05, nulls: 0.03, drift: 0.03, poison: 0.01 },
      steps: { duplicate: 0.05, early: 0.05 },
    },
    watermarkMinutes: 5,
    lateMinutes: [1, 180],
  },
};

export class ChaosProfileError extends Error {}

/**
 * A profile from `--chaos`: "light", "heavy", or the text of a JSON file shaped like them (topics →
 * kind → rate in [0, 1], rates of a topic summing to 1 at most; watermark and lateness optional).
 */
export function parseChaosProfile(text: string, name = "file"): ChaosProfile {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ChaosProfileError(`not JSON: ${(err as Error).message}`);
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw new ChaosProfileError("expected an object");
  const o = raw as Record<string, unknown>;
  const topics: ChaosProfile["topics"] = {};
  const given = o.topics ?? {};
  if (typeof given !== "object" || given === null || Array.isArray(given)) throw new ChaosProfileError('"topics" must be an object');
  for (const [topic, rates] of Object.entries(given as Record<string, unknown>)) {
    if (!(CHAOS_TOPICS as readonly string[]).includes(topic))
      throw new ChaosProfileError(`unknown topic "${topic}" (expected ${CHAOS_TOPICS.join(", ")})`);
    if (typeof rates !== "object" || rates === null) throw new ChaosProfileError(`topics.${topic} must be an object of rates`);
    const out: ChaosRates = {};
    let sum = 0;
    for (const [kind, rate] of Object.entries(rates as Record<string, unknown>)) {
      if (!(CHAOS_KINDS as readonly string[]).includes(kind))
        throw new ChaosProfileError(`topics.${topic}: unknown kind "${kind}" (expected ${CHAOS_KINDS.join(", ")})`);
      if (!(APPLIES[topic as ChaosTopic] as readonly string[]).includes(kind))
        throw new ChaosProfileError(`topics.${topic}: "${kind}" cannot be injected there`);
      if (typeof rate !== "number" || !(rate >= 0 && rate <= 1))
        throw new ChaosProfileError(`topics.${topic}.${kind}: expected a rate in [0, 1]`);
      out[kind as ChaosKind] = rate;
      sum += rate;
    }
    if (sum > 1) throw new ChaosProfileError(`topics.${topic}: the rates sum to ${sum}, above 1`);
    topics[topic as ChaosTopic] = out;
  }
  const minutes = (key: string, fallback: number): number => {
    const v = o[key] ?? fallback;
    if (typeof v !== "number" || !(v > 0)) throw new ChaosProfileError(`"${key}" must be a positive number of minutes`);
    return v;
  };
  const watermarkMinutes = minutes("watermarkMinutes", 5);
  const late = o.lateMinutes ?? [1, 60];
  if (!Array.isArray(late) || late.length !== 2 || !late.every((m) => typeof m === "number" && m > 0) || late[0] > late[1])
    throw new ChaosProfileError('"lateMinutes" must be [min, max] minutes, min <= max');
  return { name, topics, watermarkMinutes, lateMinutes: [late[0], late[1]] };
}

/** Which kind, if any, the next record of `topic` gets: one draw a record, from the profile's own stream. */
export function drawKind(profile: ChaosProfile, topic: ChaosTopic, rng: Rng): ChaosKind | null {
  const rates = profile.topics[topic];
  if (!rates) return null;
  let r = rng.next();
  for (const kind of CHAOS_KINDS) {
    const rate = rates[kind] ?? 0;
    if (r < rate) return kind;
    r -= rate;
  }
  return null;
}

/** How long ago a late record happened: past the watermark by 1 to lateMinutes. */
export function latenessMs(profile: ChaosProfile, rng: Rng): number {
  const [lo, hi] = profile.lateMinutes;
  return (profile.watermarkMinutes + lo + rng.next() * (hi - lo)) * 60_000;
}

/** The record with its nullable fields that hold a value set to null; null when it has none. */
export function withNulls<T extends object>(topic: ChaosTopic, data: T): { data: T; fields: string[] } | null {
  const fields = NULLABLE[topic].filter((f) => (data as Record<string, unknown>)[f] != null);
  if (fields.length === 0) return null;
  const out = { ...data } as Record<string, unknown>;
  for (const f of fields) out[f] = null;
  return { data: out as T, fields };
}

/** The field that holds when a record happened: a click's `at`, every entity's `created_at`. */
export const TIME_FIELD: Record<"users" | "products" | "orders" | "clicks", string> = {
  users: "created_at",
  products: "created_at",
  orders: "created_at",
  clicks: "at",
};

/** A field no schema version has: what a producer on a newer schema would add. */
export const DRIFT_FIELD = "chaos_drift_note";

/** The first half of a record's bytes: no reader can decode it. */
export function truncated(value: string | Buffer): Buffer {
  const bytes = typeof value === "string" ? Buffer.from(value) : value;
  return bytes.subarray(0, Math.max(1, bytes.length >>> 1));
}

/** An answer key line as the score needs it. */
export interface Injection {
  event_id: string;
  kind: ChaosKind;
  topic: string;
  partition: number;
  offset: number;
  /** A late record's true time (ISO). */
  trueAt?: string;
}

/** What the sink holds of one id: how many rows, and the time of the first. */
export interface SinkRows {
  rows: number;
  time: Date | null;
}

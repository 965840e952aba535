import { describe, expect, test } from "bun:test";
import { formatScore, type Injection, outcomeOf, score } from "../../src/analytics/chaos-score.ts";
import {
  CHAOS_KINDS,
  CHAOS_PROFILES,
  ChaosProfileError,
  drawKind,
  latenessMs,
  parseChaosProfile,
  truncated,
  withNulls,
} from "../../src/domain/chaos.ts";
import { Rng } from "../../src/domain/random.ts";
import { generateProducts } from "../../src/domain/products.ts";
import { generateUsers } from "../../src/domain/users.ts";
import type { BatchingProducer } from "../../src/kafka/batching-producer.ts";
import { topicNames } from "../../src/kafka/topics.ts";
import { ChaosSender } from "../../src/pipeline/chaos-sender.ts";
import { PLAIN_JSON } from "../../src/schemas/serializer.ts";
import { loadConfig } from "../../src/config.ts";
import { ConfigError } from "../../src/env-reader.ts";

describe("chaos profiles", () => {
  test("the kinds are drawn at the profile's rates, and the same seed draws the same faults", () => {
    const profile = CHAOS_PROFILES.heavy;
    const draws = (seed: string) => {
      const rng = new Rng(seed);
      return Array.from({ length: 100_000 }, () => drawKind(profile, "orders", rng));
    };
    const a = draws("s");
    expect(draws("s")).toEqual(a);
    expect(draws("t")).not.toEqual(a);
    for (const kind of CHAOS_KINDS) {
      const share = a.filter((k) => k === kind).length / a.length;
      expect(share).toBeCloseTo(profile.topics.orders?.[kind] ?? 0, 2);
    }
    expect(a.filter((k) => k === null).length / a.length).toBeCloseTo(1 - 0.05 - 0.03 - 0.05 - 0.03 - 0.01, 2);
  });

  test("a profile file is checked: unknown topics and kinds, rates out of range or summing above 1, a kind a topic cannot take", () => {
    const ok = parseChaosProfile(JSON.stringify({ topics: { orders: { duplicate: 0.5, poison: 0.5 } }, watermarkMinutes: 2 }), "mine");
    expect(ok).toEqual({ name: "mine", topics: { orders: { duplicate: 0.5, poison: 0.5 } }, watermarkMinutes: 2, lateMinutes: [1, 60] });
    const bad = (o: unknown) => () => parseChaosProfile(typeof o === "string" ? o : JSON.stringify(o));
    expect(bad("{")).toThrow(ChaosProfileError);
    expect(bad({ topics: { returns: {} } })).toThrow('unknown topic "returns"');
    expect(bad({ topics: { orders: { typo: 0.1 } } })).toThrow('unknown kind "typo"');
    expect(bad({ topics: { orders: { duplicate: 1.5 } } })).toThrow("expected a rate in [0, 1]");
    expect(bad({ topics: { orders: { duplicate: 0.6, late: 0.6 } } })).toThrow("above 1");
    expect(bad({ topics: { products: { out_of_order: 0.1 } } })).toThrow("cannot be injected there");
    expect(bad({ lateMinutes: [10, 5] })).toThrow("lateMinutes");
  });

  test("--chaos takes light, heavy or a file, and names itself when wrong", () => {
    expect(loadConfig({}, ["--chaos", "light"]).live.chaos).toBe(CHAOS_PROFILES.light);
    expect(loadConfig({}, []).live.chaos).toBeUndefined();
    expect(() => loadConfig({}, ["--chaos", "/nonexistent/profile.json"])).toThrow(ConfigError);
    expect(() => loadConfig({}, ["--chaos", "/nonexistent/profile.json"])).toThrow("--chaos");
  });

  test("what each kind does to a record: late past the watermark, nulls where a value was, poison unreadable", () => {
    const rng = new Rng("late");
    const { watermarkMinutes, lateMinutes } = CHAOS_PROFILES.light;
    for (let i = 0; i < 1000; i++) {
      const ms = latenessMs(CHAOS_PROFILES.light, rng);
      expect(ms).toBeGreaterThan((watermarkMinutes + lateMinutes[0]) * 60_000 - 1);
      expect(ms).toBeLessThanOrEqual((watermarkMinutes + lateMinutes[1]) * 60_000);
    }
    const user: { id: string; last_login_at: Date | null; last_ordered_at: null; name: string } = {
      id: "U_1",
      last_login_at: new Date(),
      last_ordered_at: null,
      name: "김",
    };
    expect(withNulls("users", user)).toEqual({ data: { ...user, last_login_at: null }, fields: ["last_login_at"] });
    expect(withNulls("users", { ...user, last_login_at: null })).toBeNull(); // nothing to null: no fault
    const value = JSON.stringify({ v: 1, data: { id: "O_1" } });
    expect(() => JSON.parse(truncated(value).toString())).toThrow();
  });
});

describe("the chaos score", () => {
  const at = "2026-12-06T10:00:00.000Z";
  const i = (kind: Injection["kind"], extra: Partial<Injection> = {}): Injection => ({
    event_id: "O_1",
    kind,
    topic: "orders",
    partition: 0,
    offset: 7,
    ...extra,
  });
  const one = { rows: 1, time: new Date(at) };

  test("each kind's outcome: handled, passed through or lost", () => {
    expect(outcomeOf(i("duplicate"), one, false)).toBe("handled");
    expect(outcomeOf(i("duplicate"), { rows: 2, time: null }, false)).toBe("passed through");
    expect(outcomeOf(i("duplicate"), undefined, false)).toBe("lost");
    expect(outcomeOf(i("poison"), undefined, true)).toBe("handled");
    expect(outcomeOf(i("poison"), undefined, false)).toBe("passed through");
    expect(outcomeOf(i("late", { trueAt: at }), one, false)).toBe("handled");
    expect(outcomeOf(i("late", { trueAt: at }), { rows: 1, time: new Date() }, false)).toBe("passed through"); // stored at arrival
    expect(outcomeOf(i("early", { event_id: "O_1:SHIPPED", trueAt: at }), one, false)).toBe("handled");
    expect(outcomeOf(i("early", { event_id: "O_1:SHIPPED", trueAt: at }), undefined, false)).toBe("lost"); // never applied
    expect(outcomeOf(i("late", { trueAt: at }), { rows: 1, time: null }, false)).toBe("handled"); // a sink without event time
    for (const kind of ["out_of_order", "nulls", "drift"] as const) {
      expect(outcomeOf(i(kind), one, false)).toBe("handled");
      expect(outcomeOf(i(kind), undefined, false)).toBe("lost");
    }
  });

  test("scores add up per kind, and the table names only what was injected", () => {
    const scores = score(
      [i("duplicate"), i("duplicate", { event_id: "O_2" }), i("poison")],
      (x) => (x.event_id === "O_2" ? { rows: 2, time: null } : one),
      () => true,
    );
    expect(scores.find((s) => s.kind === "duplicate")).toEqual({ kind: "duplicate", injected: 2, handled: 1, passedThrough: 1, lost: 0 });
    expect(scores.find((s) => s.kind === "poison")).toEqual({ kind: "poison", injected: 1, handled: 1, passedThrough: 0, lost: 0 });
    const table = formatScore(scores);
    expect(table).toContain("duplicate");
    expect(table).not.toContain("drift");
  });
});

describe("the chaos sender", () => {
  /** A producer that acknowledges at once, numbering each topic's records: enough to see what the sender sends. */
  function recordingProducer() {
    const sent: { topic: string; key: string | null; value: string | Buffer | null }[] = [];
    const producer = {
      send: async (topic: string, m: { key: string | null; value: string | Buffer | null }) => {
        sent.push({ topic, ...m });
        return { partition: 0, offset: sent.length - 1 };
      },
      close: async () => 0,
    } as unknown as BatchingProducer;
    return { sent, producer };
  }

  test("the same seed injects the same faults into the same records, however the sends interleave", async () => {
    const now = new Date("2026-12-01T00:00:00Z");
    const users = generateUsers(new Rng("u"), 600, now);
    const products = generateProducts(new Rng("p"), 600, now);
    const keyOf = async (interleaved: boolean) => {
      const { sent, producer } = recordingProducer();
      const sender = new ChaosSender(producer, topicNames("t."), PLAIN_JSON, CHAOS_PROFILES.heavy, "seed");
      for (let i = 0; i < 600; i++) {
        const [a, b] = interleaved ? [users[i], products[599 - i]] : [products[i], users[599 - i]];
        if ("email" in a!) sender.send("users", a.id, a as never);
        else sender.send("products", a!.id, a as never);
        if ("email" in b!) sender.send("users", b.id, b as never);
        else sender.send("products", b!.id, b as never);
      }
      expect(await sender.close()).toBe(0);
      return sent
        .filter((s) => s.topic === "t.chaos.key")
        .map((s) => {
          const { event_id, kind } = JSON.parse(String(s.value));
          return `${event_id} ${kind}`;
        })
        .sort();
    };
    const one = await keyOf(true);
    expect(one.length).toBeGreaterThan(50);
    expect(await keyOf(false)).toEqual(one);
  });
});

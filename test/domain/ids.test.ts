import { describe, expect, test } from "bun:test";
import { validate, version } from "uuid";
import { newId } from "../../src/domain/ids.ts";
import { Rng } from "../../src/domain/random.ts";

describe("newId", () => {
  const ms = Date.parse("2025-03-01T00:00:00Z");

  test("prefix + a valid UUIDv7 carrying the timestamp", () => {
    for (const prefix of ["U_", "P_", "O_", ""] as const) {
      const id = newId(prefix, new Rng(1), ms);
      expect(id.startsWith(prefix)).toBe(true);
      const uuid = id.slice(prefix.length);
      expect(validate(uuid)).toBe(true);
      expect(version(uuid)).toBe(7);
      expect(parseInt(uuid.replace(/-/g, "").slice(0, 12), 16)).toBe(ms);
    }
  });

  test("deterministic per seed, unique across draws", () => {
    expect(newId("O_", new Rng(5), ms)).toBe(newId("O_", new Rng(5), ms));
    const rng = new Rng(6);
    const ids = new Set(Array.from({ length: 50_000 }, () => newId("O_", rng, ms)));
    expect(ids.size).toBe(50_000);
  });

  test("sorts by time", () => {
    const rng = new Rng(7);
    const a = newId("", rng, ms);
    const b = newId("", rng, ms + 1);
    expect(a < b).toBe(true);
  });
});

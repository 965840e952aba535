import { describe, expect, test } from "bun:test";
import { v7, validate, version } from "uuid";
import { idInstance, MAX_ID_INSTANCE, newId } from "../../src/domain/ids.ts";
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

  test("instance 1 mints the UUIDv7 it always did", () => {
    const id = newId("O_", new Rng(8), ms);
    expect(id).toBe(`O_${v7({ msecs: ms, random: new Rng(8).bytes(16) })}`);
    expect(newId("O_", new Rng(8), ms, 1)).toBe(id);
    expect(idInstance(id)).toBe(1);
  });

  test("other instances: version 8, the instance in rand_a, the timestamp and the rest of v7's layout", () => {
    for (const instance of [2, 3, 255, 256, MAX_ID_INSTANCE]) {
      const uuid = newId("P_", new Rng(9), ms, instance).slice(2);
      expect(validate(uuid)).toBe(true);
      expect(version(uuid)).toBe(8);
      expect(parseInt(uuid.replace(/-/g, "").slice(0, 12), 16)).toBe(ms);
      expect(idInstance(uuid)).toBe(instance);
      // everything after rand_a is v7's, from the same random bits
      expect(uuid.slice(19)).toBe(v7({ msecs: ms, random: new Rng(9).bytes(16) }).slice(19));
    }
    expect(() => newId("O_", new Rng(9), ms, MAX_ID_INSTANCE + 1)).toThrow(RangeError);
    expect(() => newId("O_", new Rng(9), ms, 0)).toThrow(RangeError);
  });

  test("the same random bits in the same millisecond still give every instance another id", () => {
    // the structure alone keeps instances apart: the rng is the same for all of them here
    const ids = [1, 2, 3, 4, 100, MAX_ID_INSTANCE].map((instance) => newId("O_", new Rng(10), ms, instance));
    expect(new Set(ids).size).toBe(ids.length);
  });
});

// Entity ids are born where the entity is born (docs/design.md, "Data model"), so a redelivered message upserts the same
// row. UUIDv7 keeps them time-ordered (index-friendly); the random bits come from the seeded Rng so
// the same seed yields the same ids.
import { v7 } from "uuid";
import type { Rng } from "./random.ts";

export type IdPrefix = "U_" | "P_" | "O_" | "";

export function newId(prefix: IdPrefix, rng: Rng, ms: number): string {
  return prefix + v7({ msecs: Math.floor(ms), random: rng.bytes(16) });
}

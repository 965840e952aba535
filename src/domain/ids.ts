// Entity ids are born where the entity is born (docs/design.md, "Data model"), so a redelivered message upserts the same
// row. UUIDv7 keeps them time-ordered (index-friendly); the random bits come from the seeded Rng so
// the same seed yields the same ids.
//
// Several producers share one SEED (docs/design.md, "Several producers"). Instance 1 mints the
// plain UUIDv7 every generator always has; every random bit of those is taken, so no bit is left
// to mark an instance in. The others mint the same layout under version 8 (RFC 9562's custom
// UUID) with the instance number in the 12 bits of rand_a: the version tells instance 1's ids from
// the others', rand_a the others' from each other, whatever the random bits draw.
import { stringify, v7 } from "uuid";
import type { Rng } from "./random.ts";

export type IdPrefix = "U_" | "P_" | "O_" | "S_" | "";

/** The highest instance an id can name: rand_a holds it in 12 bits. */
export const MAX_ID_INSTANCE = 4095;

export function newId(prefix: IdPrefix, rng: Rng, ms: number, instance = 1): string {
  const options = { msecs: Math.floor(ms), random: rng.bytes(16) };
  if (instance === 1) return prefix + v7(options);
  if (!Number.isInteger(instance) || instance < 1 || instance > MAX_ID_INSTANCE)
    throw new RangeError(`an id names instances 1..${MAX_ID_INSTANCE}, got ${instance}`);
  const bytes = v7(options, new Uint8Array(16));
  bytes[6] = 0x80 | (instance >>> 8); // version 8, then the instance's top 4 bits
  bytes[7] = instance & 0xff;
  return prefix + stringify(bytes);
}

/** The instance that minted an id: 1 for a UUIDv7, rand_a for a version-8 id. */
export function idInstance(id: string): number {
  const hex = id.slice(id.length - 36).replace(/-/g, "");
  return hex[12] === "8" ? Number.parseInt(hex.slice(13, 16), 16) : 1;
}

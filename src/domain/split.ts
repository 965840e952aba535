// The cache's split load (docs/design.md, "Cache") as a pure merge: take `primaryShare` from the primary pool, the
// rest from the secondary pool, no duplicates, and let either pool fill the other's gap so the
// result holds `total` whenever the two pools together have that many.

export function splitMerge<T extends { id: string }>(
  primary: readonly T[],
  secondary: readonly T[],
  primaryShare: number,
  total: number,
): T[] {
  const taken = new Set<string>();
  const out: T[] = [];
  const take = (pool: readonly T[], limit: number, from = 0): number => {
    let i = from;
    for (; i < pool.length && out.length < limit; i++) {
      const item = pool[i] as T;
      if (taken.has(item.id)) continue;
      taken.add(item.id);
      out.push(item);
    }
    return i;
  };
  const primaryNext = take(primary, Math.min(primaryShare, total));
  const secondaryNext = take(secondary, total);
  take(primary, total, primaryNext); // secondary was short: primary fills the gap
  take(secondary, total, secondaryNext);
  return out;
}

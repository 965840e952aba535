// A ceiling on how often one customer orders (docs/design.md, "Realism at scale"): at most `limit`
// orders inside any window of `windowMs`. The generators skip a buyer who would exceed it, so volume
// spreads over more customers instead of piling onto the highest propensity scores. The rule is a
// sliding window, not calendar days, so it can be checked exactly from orders.created_at alone.

export const ORDERS_PER_CUSTOMER_DAY = 3;

export class OrderSpacing {
  /** Each customer's last `limit` order times, oldest first. */
  private readonly recent = new Map<string, number[]>();
  /** Orders placed although every candidate had reached the ceiling (0 when the pools are sized right). */
  overruns = 0;

  /** `windowMs` may widen later (a simulated day grows with the customer base). */
  constructor(
    readonly limit: number,
    public windowMs: number,
  ) {
    if (!(Number.isInteger(limit) && limit >= 1)) throw new Error(`order spacing limit must be a whole number >= 1, got ${limit}`);
    if (!(windowMs > 0)) throw new Error(`order spacing window must be > 0 ms, got ${windowMs}`);
  }

  /** Whether an order by `id` at `ms` stays within the ceiling. */
  allows(id: string, ms: number): boolean {
    const times = this.recent.get(id);
    return times === undefined || times.length < this.limit || ms - (times[0] as number) >= this.windowMs;
  }

  record(id: string, ms: number): void {
    const times = this.recent.get(id);
    if (times === undefined) this.recent.set(id, [ms]);
    else {
      if (times.length >= this.limit) times.shift();
      times.push(ms);
    }
  }

  /** Forgets customers whose last order left the window (keeps memory to the active few). */
  prune(nowMs: number): void {
    for (const [id, times] of this.recent) if (nowMs - (times[times.length - 1] as number) >= this.windowMs) this.recent.delete(id);
  }

  /**
   * Draws with `draw` until a candidate passes; after `tries` refusals takes the first of `fallback`
   * that passes, and only when none does places the order anyway and counts an overrun.
   */
  pick<T>(draw: () => T, idOf: (candidate: T) => string, fallback: readonly T[], ms: number, tries = 32): T {
    let candidate = draw();
    for (let i = 1; i < tries && !this.allows(idOf(candidate), ms); i++) candidate = draw();
    if (!this.allows(idOf(candidate), ms)) {
      const free = fallback.find((c) => this.allows(idOf(c), ms));
      if (free !== undefined) candidate = free;
      else this.overruns++;
    }
    this.record(idOf(candidate), ms);
    return candidate;
  }
}

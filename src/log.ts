// One-line logs: time, service name, message. start:all prefixes and colours them per process.

export interface Logger {
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string, err?: unknown): void;
}

export function logger(service: string): Logger {
  const line = (level: string, msg: string) => `${new Date().toISOString()} ${level} [${service}] ${msg}`;
  return {
    info: (msg) => console.log(line("INFO ", msg)),
    warn: (msg) => console.warn(line("WARN ", msg)),
    error: (msg, err) => console.error(line("ERROR", err === undefined ? msg : `${msg}: ${describe(err)}`)),
  };
}

export function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Turns a failure storm into a few lines: the first occurrence of a kind is logged at once, later
 * ones of the same kind are counted and logged as one line per kind per interval
 * ("1,204 messages in 3 batches failed in the last 5 s: …"). Never one line per record.
 */
export class StormLog {
  private readonly counts = new Map<string, { events: number; items: number }>();
  private timer: ReturnType<typeof setInterval> | null = null;

  constructor(
    private readonly write: (line: string) => void,
    private readonly intervalMs = 5000,
  ) {}

  /** One event of `kind` (a batch, a write) covering `items` records. */
  note(kind: string, what: string, items = 1): void {
    const seen = this.counts.get(kind);
    if (!seen) {
      this.counts.set(kind, { events: 0, items: 0 });
      this.write(`${what} ${kind}`);
      this.arm();
      return;
    }
    seen.events++;
    seen.items += items;
  }

  private arm(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.report(), this.intervalMs);
    this.timer.unref?.();
  }

  /** Logs what was counted since the last report; a kind quiet for a whole interval is forgotten. */
  report(): void {
    for (const [kind, c] of this.counts) {
      if (c.events === 0) {
        this.counts.delete(kind);
        continue;
      }
      const items = c.items === c.events ? "" : ` (${c.items.toLocaleString("en")} records)`;
      this.write(`${c.events.toLocaleString("en")} more in the last ${this.intervalMs / 1000} s${items}: ${kind}`);
      c.events = 0;
      c.items = 0;
    }
    if (this.counts.size === 0 && this.timer) {
      clearInterval(this.timer);
      this.timer = null;
    }
  }

  /** Flushes the counts (at shutdown). */
  close(): void {
    this.report();
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}

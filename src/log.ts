// One-line logs: time, level, the service's name, the message, then structured fields as
// key=value; or, with LOG_FORMAT=json (for log shippers), one JSON object a line with the same
// fields. start:all prefixes and colours text lines per process and passes JSON lines on as they
// are. Every module and both Kafka client adapters log through a Logger; nothing else writes log lines.
import { describe } from "./errors.ts";

export type LogFormat = "text" | "json";

export type LogFields = Record<string, string | number | boolean | null | undefined>;

export interface Logger {
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, err?: unknown, fields?: LogFields): void;
}

export function logger(service: string, format: LogFormat = "text"): Logger {
  const line =
    format === "json"
      ? (level: string, msg: string, fields?: LogFields, err?: unknown) =>
          JSON.stringify({
            time: new Date().toISOString(),
            level: level.trim().toLowerCase(),
            service,
            msg,
            ...(err === undefined ? {} : { error: describe(err) }),
            ...fields,
          })
      : (level: string, msg: string, fields?: LogFields, err?: unknown) =>
          `${new Date().toISOString()} ${level} [${service}] ${err === undefined ? msg : `${msg}: ${describe(err)}`}${formatFields(fields)}`;
  return {
    info: (msg, fields) => console.log(line("INFO ", msg, fields)),
    warn: (msg, fields) => console.warn(line("WARN ", msg, fields)),
    error: (msg, err, fields) => console.error(line("ERROR", msg, fields, err)),
  };
}

/** `log` with `fields` on every line it writes (which client, which topic): what a log shipper filters on. */
export function withFields(log: Logger, fields: LogFields): Logger {
  return {
    info: (msg, more) => log.info(msg, { ...fields, ...more }),
    warn: (msg, more) => log.warn(msg, { ...fields, ...more }),
    error: (msg, err, more) => log.error(msg, err, { ...fields, ...more }),
  };
}

function formatFields(fields: LogFields | undefined): string {
  if (!fields) return "";
  let out = "";
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    const text = String(value);
    out += ` ${key}=${/[\s"=]/.test(text) ? JSON.stringify(text) : text}`;
  }
  return out;
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

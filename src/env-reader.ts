import { ShopstreamError } from "./errors.ts";

// How one environment variable is read: trimmed (empty counts as unset), parsed, checked against its
// rule, and refused in one line that names it. config.ts says which variables there are.

export type Env = Record<string, string | undefined>;

export class ConfigError extends ShopstreamError {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`${variable}: ${message}`);
  }
}

interface NumberRule {
  min?: number;
  max?: number;
  integer?: boolean;
  /** Why the minimum or maximum, when it comes from another variable. */
  minReason?: string;
  maxReason?: string;
}

/** A URL as an error message may show it: a password ("user:password@", even in a malformed URL) masked. */
export function withoutPassword(url: string): string {
  return url.replace(/(^|\/)([^:/@?#\s]*):[^@/?#\s]*@/, "$1$2:***@");
}

export class Reader {
  constructor(private readonly env: Env) {}

  private raw(name: string): string | undefined {
    const v = this.env[name];
    return v === undefined || v.trim() === "" ? undefined : v.trim();
  }

  string(name: string, fallback: string): string {
    return this.raw(name) ?? fallback;
  }

  number(name: string, fallback: number, opts: NumberRule = {}): number {
    const raw = this.raw(name);
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isFinite(n)) throw new ConfigError(name, `expected a number, got "${raw}"`);
    if (opts.integer && !Number.isInteger(n)) throw new ConfigError(name, `expected an integer, got "${raw}"`);
    if (opts.min !== undefined && n < opts.min) {
      const why = opts.minReason ? ` (${opts.minReason})` : "";
      throw new ConfigError(name, `must be >= ${opts.min}${why}, got ${n}`);
    }
    if (opts.max !== undefined && n > opts.max) {
      const why = opts.maxReason ? ` (${opts.maxReason})` : "";
      throw new ConfigError(name, `must be <= ${opts.max}${why}, got ${n}`);
    }
    return n;
  }

  optionalNumber(name: string, opts: NumberRule = {}): number | null {
    return this.raw(name) === undefined ? null : this.number(name, 0, opts);
  }

  range(name: string, fallback: [number, number]): [number, number] {
    const raw = this.raw(name);
    if (raw === undefined) return fallback;
    const parts = raw.split(/[-,]/).map((p) => Number(p.trim()));
    const [lo, hi] = parts;
    if (parts.length !== 2 || lo === undefined || hi === undefined || !(lo > 0) || !(hi >= lo))
      throw new ConfigError(name, `expected "min-max" seconds with 0 < min <= max, got "${raw}"`);
    return [lo, hi];
  }

  oneOf<T extends string>(name: string, fallback: T, allowed: readonly T[]): T {
    const raw = this.raw(name);
    if (raw === undefined) return fallback;
    if (!(allowed as readonly string[]).includes(raw)) throw new ConfigError(name, `expected one of ${allowed.join(", ")}, got "${raw}"`);
    return raw as T;
  }

  url(name: string, fallback: string, protocols: string[]): string {
    const raw = this.raw(name) ?? fallback;
    let parsed: URL;
    try {
      parsed = new URL(raw);
    } catch {
      throw new ConfigError(name, `not a URL: "${withoutPassword(raw)}"`);
    }
    if (!protocols.includes(parsed.protocol))
      throw new ConfigError(name, `expected a ${protocols.map((p) => p.slice(0, -1)).join("/")}:// URL, got "${withoutPassword(raw)}"`);
    return raw;
  }

  brokers(name: string, fallback: string): string[] {
    const raw = this.raw(name) ?? fallback;
    const brokers = raw
      .split(",")
      .map((b) => b.trim())
      .filter(Boolean);
    for (const broker of brokers) {
      const m = /^([A-Za-z0-9.\-_]+|\[[0-9a-fA-F:]+\]):(\d{1,5})$/.exec(broker);
      if (!m || Number(m[2]) < 1 || Number(m[2]) > 65535)
        throw new ConfigError(name, `expected comma-separated host:port list, got "${raw}"`);
    }
    if (brokers.length === 0) throw new ConfigError(name, "no brokers given");
    return brokers;
  }
}

import type { Registry } from "prom-client";
import { ENTITY_TOPICS } from "../kafka/topics.ts";

// The live page's memory (docs/design.md, "Metrics"): the metrics service samples its own
// /metrics every few seconds and keeps the last ten minutes, so the page can draw rates and lag
// over time without a Prometheus behind it. Counters become rates between samples; a counter that
// goes down (a process restarted) counts as no change, never as a negative rate.

export const LIVE_WINDOW_MS = 10 * 60 * 1000;

type Values = { labels: Record<string, string | number>; value: number }[];

/** The figures of one /metrics scrape the page draws, by name. */
export class Scrape {
  private constructor(private readonly byName: Map<string, Values>) {}

  static async of(registry: Registry): Promise<Scrape> {
    const metrics = (await registry.getMetricsAsJSON()) as unknown as { name: string; values: Values }[];
    return new Scrape(new Map(metrics.map((m) => [m.name, m.values])));
  }

  /** Every labelled value of a counter or gauge. */
  values(name: string): Values {
    return this.byName.get(name) ?? [];
  }

  /** Values keyed by one label. */
  by(name: string, label: string): Record<string, number> {
    const out: Record<string, number> = {};
    for (const v of this.values(name)) out[String(v.labels[label])] = (out[String(v.labels[label])] ?? 0) + v.value;
    return out;
  }

  /** The unlabelled value, or null when the series is absent. */
  one(name: string): number | null {
    return this.values(name)[0]?.value ?? null;
  }
}

interface Sample {
  at: number;
  produced: Record<string, number>;
  stored: Record<string, number>;
  deadLettered: Record<string, number>;
  /** "group/partition" → lag */
  lag: Record<string, number>;
}

/**
 * Rates are taken over this span, not between neighbouring samples: the processes ship their
 * counters every 2 s, out of step with the sampling, and a 2-s rate saw-tooths between 0 and twice
 * the truth.
 */
const RATE_SPAN_MS = 10_000;

export interface LiveSeries {
  /** Sample times (ms since the epoch), oldest first. */
  t: number[];
  /** Messages per second over the 10 s before each sample, per topic. */
  produced: Record<string, number[]>;
  stored: Record<string, number[]>;
  deadLettered: Record<string, number[]>;
  /** Consumer lag per group and partition at each sample. */
  lag: Record<string, number[]>;
}

export class LiveHistory {
  private samples: Sample[] = [];

  constructor(private readonly windowMs = LIVE_WINDOW_MS) {}

  add(at: number, scrape: Scrape): void {
    const lag: Record<string, number> = {};
    for (const v of scrape.values("shopstream_consumer_lag")) lag[`${v.labels.group}/${v.labels.partition}`] = v.value;
    this.samples.push({
      at,
      produced: scrape.by("shopstream_messages_produced_total", "topic"),
      stored: scrape.by("shopstream_messages_stored_total", "topic"),
      deadLettered: scrape.by("shopstream_dlq_messages_total", "topic"),
      lag,
    });
    while (this.samples.length > 2 && (this.samples[0] as Sample).at < at - this.windowMs) this.samples.shift();
  }

  series(): LiveSeries {
    // each sample with the oldest one at most RATE_SPAN_MS before it
    let from = 0;
    const pairs = this.samples.slice(1).map((b, i) => {
      while (from < i && b.at - (this.samples[from + 1] as Sample).at >= RATE_SPAN_MS) from++;
      return [this.samples[from] as Sample, b] as const;
    });
    const rate = (pick: (s: Sample) => Record<string, number>) =>
      Object.fromEntries(
        ENTITY_TOPICS.map((topic) => [
          topic,
          pairs.map(([a, b]) => Math.max(0, ((pick(b)[topic] ?? 0) - (pick(a)[topic] ?? 0)) / ((b.at - a.at) / 1000))),
        ]),
      );
    const lagKeys = [...new Set(this.samples.flatMap((s) => Object.keys(s.lag)))].sort();
    const later = this.samples.slice(1);
    return {
      t: later.map((s) => s.at),
      produced: rate((s) => s.produced),
      stored: rate((s) => s.stored),
      deadLettered: rate((s) => s.deadLettered),
      lag: Object.fromEntries(lagKeys.map((k) => [k, later.map((s) => s.lag[k] ?? 0)])),
    };
  }
}

// Cadences of the realtime generators (docs/design.md, "Live cadence") and the hourly order volume
// (docs/design.md, "Scenarios and the volume curve").
import type { Rng } from "./random.ts";
import { seoulHour } from "./seoul-time.ts";

/** Relative order volume per Seoul hour 0..23: quiet at night, peak at 20h. */
export const HOURLY_VOLUME: readonly number[] = [
  0.15, 0.05, 0.02, 0.01, 0.01, 0.03, 0.08, 0.2, 0.5, 0.8, 1.3, 1.6, 1.4, 1.1, 1.0, 1.1, 1.2, 1.4, 1.8, 2.2, 3.0, 2.5, 1.5, 0.5,
];

export interface UserCurveParams {
  startBatch: number;
  startIntervalS: number;
  endIntervalS: number;
  /** k in exp(-k·t), t in hours. */
  decayPerHour: number;
}

/**
 * Sign-ups after launch: batch size and spacing follow an exponential decay from a burst of
 * `startBatch` users every `startIntervalS` to one user every `endIntervalS`. (The original called
 * this an S-curve; the formula is a plain exponential decay.)
 */
export function newUserStep(elapsedHours: number, p: UserCurveParams): { batch: number; intervalS: number } {
  const decay = Math.exp(-p.decayPerHour * Math.max(0, elapsedHours));
  return {
    batch: Math.max(1, Math.floor(p.startBatch * decay)),
    intervalS: p.startIntervalS + (p.endIntervalS - p.startIntervalS) * (1 - decay),
  };
}

export const ORDER_INTERVAL_CLAMP_S: readonly [number, number] = [1, 30];

function checkSpeed(speed: number): void {
  if (!(speed > 0) || !Number.isFinite(speed)) throw new Error(`speed must be a positive number, got ${speed}`);
}

/**
 * Seconds until the next order: uniform(range) divided by the hour's volume (× the scenario's
 * volume), clamped to 1–30 s so nights are slow but never silent, then divided by `speed`.
 */
export function orderIntervalS(rng: Rng, at: Date, speed: number, range: readonly [number, number], volume = 1): number {
  checkSpeed(speed);
  const hourly = (HOURLY_VOLUME[seoulHour(at)] as number) * volume;
  const [lo, hi] = ORDER_INTERVAL_CLAMP_S;
  const raw = rng.uniform(range[0], range[1]) / hourly;
  return Math.min(hi, Math.max(lo, raw)) / speed;
}

export function productIntervalS(rng: Rng, speed: number, range: readonly [number, number]): number {
  checkSpeed(speed);
  return rng.uniform(range[0], range[1]) / speed;
}

import { parseArgs } from "node:util";

// Shared flags of the live services: --speed N multiplies every cadence, --rate R drives a fixed
// orders/s, --scenario picks the live scenario, --count stops after that many orders.

export interface LiveFlags {
  speed?: number;
  rate?: number;
  scenario?: string;
  count?: number;
}

export function parseLiveFlags(argv: string[] = Bun.argv.slice(2)): LiveFlags {
  const { values } = parseArgs({
    args: argv,
    options: {
      speed: { type: "string" },
      rate: { type: "string" },
      scenario: { type: "string" },
      count: { type: "string" },
    },
    allowPositionals: true,
    strict: true,
  });
  return {
    speed: positive("--speed", values.speed),
    rate: positive("--rate", values.rate),
    scenario: values.scenario,
    count: positive("--count", values.count),
  };
}

function positive(flag: string, raw: string | undefined): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!(n > 0) || !Number.isFinite(n)) throw new Error(`${flag}: expected a positive number, got "${raw}"`);
  return n;
}

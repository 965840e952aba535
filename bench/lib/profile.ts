import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";

// Bun's --cpu-prof-md writes one markdown profile per process: a header with the duration and the
// sample count, then a section per function with its self samples. Samples are taken while the
// process runs JavaScript, so a function's share of them is its share of the process's CPU; Bun's
// "self time" is not (it spans idle gaps between samples). This reads the sections back so a run
// can say where each µs of an order goes.

export interface HotFunction {
  name: string;
  location: string;
  /** Samples taken while the function itself ran: its share of the process's CPU. */
  selfSamples: number;
  /** Bun's self time: wall time between samples, which counts idle gaps too. */
  selfMs: number;
}

export interface CpuProfile {
  file: string;
  durationMs: number;
  samples: number;
  /** Sorted by self time, most first. */
  hot: HotFunction[];
}

/** "87.9ms", "640us", "1.2s" → ms. */
function toMs(text: string): number {
  const m = /^([\d.]+)\s*(us|µs|ms|s)$/.exec(text.trim());
  if (!m) return Number.NaN;
  const n = Number(m[1]);
  return m[2] === "s" ? n * 1000 : m[2] === "ms" ? n : n / 1000;
}

const cell = (c: string) => c.trim();

export function parseProfile(markdown: string, file = ""): CpuProfile {
  const lines = markdown.split("\n");
  const header = lines.findIndex((l) => l.startsWith("| Duration"));
  if (header < 0) throw new Error(`${file || "profile"}: not a Bun --cpu-prof-md profile`);
  const [duration, samples] = (lines[header + 2] ?? "").split("|").slice(1, 3).map(cell);
  const hot: HotFunction[] = [];
  for (let i = 0; i < lines.length - 1; i++) {
    const name = /^### `(.*)`$/.exec(lines[i] ?? "")?.[1];
    const detail = /^`(.*)` \| Self: [\d.]+% \(([^)]+)\) \| Total: .* \| Samples: (\d+)/.exec(lines[i + 1] ?? "");
    if (name === undefined || !detail) continue;
    hot.push({ name, location: detail[1] ?? "", selfMs: toMs(detail[2] ?? ""), selfSamples: Number(detail[3]) });
  }
  hot.sort((a, b) => b.selfSamples - a.selfSamples);
  return { file, durationMs: toMs(duration ?? ""), samples: Number(samples), hot };
}

/** The one profile a process wrote into `dir` (the newest, should there be more). */
export function readProfile(dir: string): CpuProfile {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith(".md"))
    .map((f) => join(dir, f))
    .sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs);
  const file = files[0];
  if (!file) throw new Error(`no CPU profile in ${dir}: the process did not exit cleanly`);
  return parseProfile(readFileSync(file, "utf8"), file);
}

/** Where a location points, shortened for a table: the path from src/ or bench/ on, or what Bun named it. */
export function shortLocation(location: string): string {
  const m = /(?:^|\/)((?:src|bench|node_modules)\/.*)$/.exec(location);
  return m?.[1] ?? location;
}

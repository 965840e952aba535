import { appendFileSync, existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { machineInfo } from "./infra.ts";

// bench/RESULTS.md, the record of every benchmark run: each run appends a section that starts with
// the same header (what, when, on which machine and commit, with which command).

const RESULTS = join(import.meta.dir, "..", "RESULTS.md");

/** "## <title> — <date>", then the machine and commit line and the command line. */
export function resultsHeader(title: string, command: string, note = ""): string {
  const m = machineInfo();
  return [
    `## ${title} — ${new Date().toISOString().replace("T", " ").slice(0, 16)} UTC`,
    "",
    `- machine: ${m.cpu}, ${m.cores} cores, ${m.memoryGb} GB RAM${note ? ` (${note})` : ""}; commit ${m.commit}; Bun ${m.bun}`,
    `- command: \`${command}\``,
  ].join("\n");
}

/** Appends a run to bench/RESULTS.md, or to `file` (the suite's own runs). */
export function appendResults(markdown: string, file = RESULTS): void {
  if (!existsSync(file))
    writeFileSync(file, "# shopstream benchmark results\n\nRuns appended by `bun bench`; analysis sections by hand.\n");
  appendFileSync(file, `\n${markdown.trim()}\n`);
  console.log(`appended to ${file}`);
}

import { CHAOS_KINDS, type ChaosKind, type Injection, type SinkRows } from "../domain/chaos.ts";

export type { Injection, SinkRows };

// How a sink did against the answer key (docs/design.md, "Chaos"): for each injected record, what
// a correct pipeline does with it, and whether this one did. Pure: `bun run chaos-score` reads the
// key, the sink and the dead letters, and hands them here.

export type Outcome = "handled" | "passed through" | "lost";

/** What "handled" means, kind by kind: the line the score prints under each. */
export const HANDLED: Record<ChaosKind, string> = {
  duplicate: "absorbed: one row for the id",
  late: "stored with its true time",
  out_of_order: "stored",
  nulls: "stored",
  drift: "stored (the unknown field ignored)",
  poison: "dead-lettered",
  early: "stored (parked until the step it follows)",
};

/**
 * One injection's outcome. A duplicate is passed through when the sink holds its id twice and
 * lost when not at all; poison is handled only when it was dead-lettered (a sink has no row for
 * it either way); every other kind is a good record that must be stored once (a late one with
 * the time it carried), and is lost when it is not.
 */
export function outcomeOf(i: Injection, sink: SinkRows | undefined, deadLettered: boolean): Outcome {
  const rows = sink?.rows ?? 0;
  if (i.kind === "poison") return deadLettered ? "handled" : "passed through";
  if (rows === 0) return "lost";
  if (i.kind === "duplicate") return rows === 1 ? "handled" : "passed through";
  if (rows > 1) return "passed through";
  // a late record, or a step sent early, must keep the time it carries
  const timed = i.kind === "late" || i.kind === "early";
  // (a sink without a time column, --time-column none, is not asked)
  if (timed && i.trueAt !== undefined && sink?.time != null && sink.time.getTime() !== Date.parse(i.trueAt)) return "passed through";
  return "handled";
}

export interface KindScore {
  kind: ChaosKind;
  injected: number;
  handled: number;
  passedThrough: number;
  lost: number;
}

export function score(
  injections: readonly Injection[],
  sinkOf: (i: Injection) => SinkRows | undefined,
  deadLettered: (i: Injection) => boolean,
): KindScore[] {
  const byKind = new Map<ChaosKind, KindScore>(
    CHAOS_KINDS.map((kind) => [kind, { kind, injected: 0, handled: 0, passedThrough: 0, lost: 0 }]),
  );
  for (const i of injections) {
    const s = byKind.get(i.kind) as KindScore;
    s.injected++;
    const outcome = outcomeOf(i, sinkOf(i), deadLettered(i));
    if (outcome === "handled") s.handled++;
    else if (outcome === "passed through") s.passedThrough++;
    else s.lost++;
  }
  return [...byKind.values()];
}

/** The score as a table, one line a kind that was injected. */
export function formatScore(scores: readonly KindScore[]): string {
  const pct = (n: number, of: number) => (of === 0 ? "-" : `${((100 * n) / of).toFixed(1)} %`);
  const lines = ["kind          injected   handled   passed through   lost   (handled means)"];
  for (const s of scores) {
    if (s.injected === 0) continue;
    lines.push(
      `${s.kind.padEnd(13)} ${String(s.injected).padStart(8)}   ${pct(s.handled, s.injected).padStart(7)}   ${pct(s.passedThrough, s.injected).padStart(14)}   ${pct(s.lost, s.injected).padStart(6)}   ${HANDLED[s.kind]}`,
    );
  }
  if (lines.length === 1) lines.push("(nothing injected: run the producer with --chaos light|heavy|FILE first)");
  return lines.join("\n");
}

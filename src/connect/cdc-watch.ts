import { backoffMs } from "../retry.ts";
import { type CdcState, cdcRunning, firstLine } from "./cdc.ts";

// What the CDC watch does with each look at the connector (docs/connect.md): a failed connector or
// task is restarted with a growing wait, said once when it fails and once when it runs again (never
// once per look, never per record); a replication slot holding back more WAL than the threshold is
// said once when it crosses it, and once when it falls back. Pure: the service does the I/O.

export interface WatchStep {
  /** Ask the worker to restart what failed. */
  restart: boolean;
  warnings: string[];
  notes: string[];
}

const MiB = 2 ** 20;
/** The restarts' waits: 5 s doubling to 5 min (a connector failing for good is not restarted in a loop). */
const RESTART_BACKOFF = { firstMs: 5000, maxMs: 300_000, jitter: false } as const;

export class CdcWatch {
  #failures = 0;
  #nextRestartAt = 0;
  #walWarned = false;
  #unreachable = false;
  #missingSaid = false;

  constructor(
    private readonly connector: string,
    private readonly walWarnBytes: number,
  ) {}

  observe(state: CdcState, now: number): WatchStep {
    const step: WatchStep = { restart: false, warnings: [], notes: [] };
    this.#connector(state, now, step);
    this.#wal(state, step);
    return step;
  }

  #connector(state: CdcState, now: number, step: WatchStep): void {
    if (state.connector === "UNREACHABLE") {
      if (!this.#unreachable)
        step.warnings.push(`no Kafka Connect worker answers: the CDC connector ${this.connector} is not watched until one does`);
      this.#unreachable = true;
      return;
    }
    if (this.#unreachable) step.notes.push("Kafka Connect answers again");
    this.#unreachable = false;
    const failed = [
      ...(state.connector === "FAILED" ? [{ what: "the connector", trace: undefined as string | undefined }] : []),
      ...state.tasks.filter((t) => t.state === "FAILED").map((t) => ({ what: `task ${t.id}`, trace: t.trace })),
    ];
    if (failed.length === 0) {
      if (this.#failures > 0 && cdcRunning(state)) {
        step.notes.push(`CDC connector ${this.connector} running again after ${this.#failures} restart(s)`);
        this.#failures = 0;
        this.#nextRestartAt = 0;
      }
      if (state.connector === "MISSING" && this.#failures === 0 && !this.#missingSaid) {
        step.warnings.push(`the CDC connector ${this.connector} is not on the worker (\`bun run connect apply\` applies it)`);
        this.#missingSaid = true;
      }
      if (state.connector !== "MISSING") this.#missingSaid = false;
      return;
    }
    if (now < this.#nextRestartAt) return;
    this.#failures++;
    const wait = backoffMs(this.#failures, RESTART_BACKOFF);
    this.#nextRestartAt = now + wait;
    step.restart = true;
    if (this.#failures === 1)
      step.warnings.push(
        `CDC connector ${this.connector}: ${failed.map((f) => f.what).join(", ")} FAILED (${firstLine(failed[0]?.trace)}); restarting, then again every ${RESTART_BACKOFF.firstMs / 1000} s doubling to ${RESTART_BACKOFF.maxMs / 60_000} min while it fails`,
      );
  }

  #wal(state: CdcState, step: WatchStep): void {
    const retained = state.slot?.retainedBytes ?? 0;
    if (!this.#walWarned && retained > this.walWarnBytes) {
      this.#walWarned = true;
      step.warnings.push(
        `the CDC replication slot holds back ${(retained / MiB).toFixed(0)} MiB of WAL (over CDC_WAL_WARN_MB=${this.walWarnBytes / MiB}): its reader is ${state.slot?.active ? "behind" : "gone"}; a slot nobody reads fills the disk (\`bun run connect drop\` removes it)`,
      );
    } else if (this.#walWarned && retained <= this.walWarnBytes / 2) {
      this.#walWarned = false;
      step.notes.push(`the CDC replication slot is back to ${(retained / MiB).toFixed(0)} MiB of WAL`);
    }
  }

  get restarts(): number {
    return this.#failures;
  }
}

import { backoffMs, POLICIES } from "../retry.ts";
import type { Subprocess } from "bun";
import { SUPERVISED_ENV } from "../config.ts";

// start:all's process supervisor: every service runs as its own Bun process with prefixed,
// colour-coded output; a crashed service is restarted with exponential backoff; stop() sends
// SIGTERM in stages (producers first so they flush, consumers last so they commit) and waits.
//
// Each service runs in a process group of its own (detached): Ctrl-C in a terminal signals the
// terminal's foreground group, which is then start:all alone, so the staged stop decides the order
// instead of every process stopping at once. A service whose supervisor vanishes (SIGKILL) notices
// that its parent changed and stops cleanly by itself (services/runtime.ts).

export interface ServiceSpec {
  name: string;
  cmd: string[];
  env?: Record<string, string>;
  /** Lower stops first. */
  stopStage?: number;
  /** One-shot services are not restarted after a clean exit. */
  oneShot?: boolean;
}

const COLOURS = [31, 32, 33, 34, 35, 36, 91, 92, 93, 94, 95, 96];

export class Supervisor {
  private readonly procs = new Map<string, Subprocess>();
  private stopping = false;
  /** Services sent their (first) SIGTERM by stop(). */
  private readonly signalled = new Set<Subprocess>();
  /** Pending restarts of crashed services: cancelled by stop(), or they would hold start:all open. */
  private readonly restartTimers = new Set<ReturnType<typeof setTimeout>>();
  private readonly width: number;
  readonly restarts = new Map<string, number>();

  constructor(
    private readonly specs: readonly ServiceSpec[],
    private readonly out: (line: string) => void = (l) => console.log(l),
  ) {
    this.width = Math.max(...specs.map((s) => s.name.length));
  }

  /** A service's line as start:all prints it: prefixed, unless it is a JSON log line (LOG_FORMAT=json), which names its service itself. */
  private label(name: string, line: string): string {
    return line.startsWith("{") ? line : `${this.prefix(name)} ${line}`;
  }

  prefix(name: string): string {
    const i = this.specs.findIndex((s) => s.name === name);
    const colour = COLOURS[i % COLOURS.length];
    const label = name.padEnd(this.width);
    return process.stdout.isTTY ? `\x1b[${colour}m${label}\x1b[0m |` : `${label} |`;
  }

  startAll(): void {
    for (const spec of this.specs) this.start(spec, 0);
  }

  private start(spec: ServiceSpec, failures: number): void {
    const proc = Bun.spawn(spec.cmd, {
      env: { ...process.env, ...spec.env, [SUPERVISED_ENV]: "1" },
      stdout: "pipe",
      stderr: "pipe",
      stdin: "ignore",
      detached: true,
    });
    this.procs.set(spec.name, proc);
    void this.pipe(spec.name, proc.stdout);
    void this.pipe(spec.name, proc.stderr);
    const startedAt = Date.now();
    void proc.exited.then((code) => {
      if (this.stopping) return;
      if (code === 0 && spec.oneShot) {
        this.procs.delete(spec.name);
        return;
      }
      // a service that ran for a minute before dying starts its backoff afresh
      const streak = Date.now() - startedAt > 60_000 ? 0 : failures;
      const wait = backoffMs(streak + 1, POLICIES.serviceRestart);
      this.restarts.set(spec.name, (this.restarts.get(spec.name) ?? 0) + 1);
      this.out(`${this.prefix(spec.name)} exited with code ${code}; restarting in ${wait / 1000} s`);
      const timer = setTimeout(() => {
        this.restartTimers.delete(timer);
        if (!this.stopping) this.start(spec, streak + 1);
      }, wait);
      this.restartTimers.add(timer);
    });
  }

  private async pipe(name: string, stream: ReadableStream<Uint8Array> | undefined): Promise<void> {
    if (!stream) return;
    const decoder = new TextDecoder();
    let buffered = "";
    for await (const chunk of stream) {
      buffered += decoder.decode(chunk, { stream: true });
      const lines = buffered.split(/\r?\n|\r/);
      buffered = lines.pop() ?? "";
      for (const line of lines) if (line.trim()) this.out(this.label(name, line));
    }
    if (buffered.trim()) this.out(this.label(name, buffered));
  }

  /** Running services' pids (tests check that none is left behind). */
  pids(): number[] {
    return [...this.procs.values()].filter((p) => p.exitCode === null && p.signalCode === null).map((p) => p.pid);
  }

  /**
   * The forced stop (a second Ctrl-C): every service is told twice (a service's second signal
   * means: stop now, say what you leave undelivered) and killed after `graceMs` if it has not
   * exited by then.
   */
  async hurry(graceMs = 5000): Promise<void> {
    this.stopping = true;
    this.cancelRestarts();
    const live = [...this.procs.values()].filter((p) => p.exitCode === null && p.signalCode === null);
    for (const p of live) if (!this.signalled.has(p)) p.kill("SIGTERM");
    // two signals of one kind sent at once may arrive as one: the second follows a moment later
    await Bun.sleep(100);
    for (const p of live) p.kill("SIGTERM");
    await Promise.all(live.map((p) => exitWithin(p, graceMs)));
  }

  /**
   * Stops stage by stage; a service that ignores SIGTERM for `graceMs` is killed. `beforeStage`
   * runs before each stage is signalled (start:all lets consumers drain what producers flushed).
   */
  async stop(opts: { graceMs?: number; beforeStage?: (stage: number) => Promise<void> } = {}): Promise<void> {
    // longer than a producer's 30 s close timeout, so that a service whose Kafka is gone can still
    // report what it could not deliver and exit on its own; a stop that finds nothing stuck still
    // ends as soon as the services have exited
    const graceMs = opts.graceMs ?? 40_000;
    this.stopping = true;
    this.cancelRestarts();
    const stages = [...new Set(this.specs.map((s) => s.stopStage ?? 0))].sort((a, b) => a - b);
    for (const stage of stages) {
      await opts.beforeStage?.(stage);
      const procs = this.specs
        .filter((s) => (s.stopStage ?? 0) === stage)
        .map((s) => this.procs.get(s.name))
        .filter((p): p is Subprocess => !!p);
      for (const p of procs) {
        this.signalled.add(p);
        p.kill("SIGTERM");
      }
      await Promise.all(procs.map((p) => exitWithin(p, graceMs)));
    }
  }

  private cancelRestarts(): void {
    for (const t of this.restartTimers) clearTimeout(t);
    this.restartTimers.clear();
  }
}

/**
 * Resolves when `p` has exited, SIGKILLing it after `graceMs`. The kill timer is cleared as soon as
 * it exits: a pending one would keep start:all alive for the rest of the grace after its last
 * service stopped.
 */
async function exitWithin(p: Subprocess, graceMs: number): Promise<void> {
  const timer = setTimeout(() => p.kill("SIGKILL"), graceMs);
  try {
    await p.exited;
  } finally {
    clearTimeout(timer);
  }
}

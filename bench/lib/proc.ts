import type { Subprocess } from "bun";
import { stopProcess } from "../../support/process.ts";
import { readdirSync, readFileSync } from "node:fs";

// Process facts straight from /proc (Linux): peak RSS (VmHWM) and CPU ticks per pid, and child
// processes whose output we keep and whose last "RESULT {json}" line is their answer.

export const CLOCK_TICKS = 100; // USER_HZ on Linux; `getconf CLK_TCK`
export const CORES = navigator.hardwareConcurrency;

/** Peak resident set of a live process in MB, or null when it is gone. */
export function peakRssMb(pid: number): number | null {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) / 1024 : null;
  } catch {
    return null;
  }
}

/** utime + stime of a live process in ticks, or null when it is gone. */
export function cpuTicks(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return Number(fields[11]) + Number(fields[12]); // fields 14 and 15 of proc(5), counted after comm
  } catch {
    return null;
  }
}

/** Busy ticks of the whole machine (all cores), from the first line of /proc/stat. */
export function machineBusyTicks(): number {
  const line = readFileSync("/proc/stat", "utf8").split("\n", 1)[0] ?? "";
  const [, user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).map(Number);
  return (user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0);
}

/** The three Kafka broker JVMs (any process running kafka.Kafka), found by command line. */
export function brokerPids(): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmd = readFileSync(`/proc/${entry}/cmdline`, "utf8");
      if (cmd.includes("\0kafka.Kafka\0")) pids.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

export interface Child {
  name: string;
  proc: Subprocess<"ignore" | "pipe", "pipe", "pipe">;
  output(): string;
  /** Called with every complete stdout line (progress reports). */
  onLine?: (line: string) => void;
  /** Resolves with the parsed RESULT line once the process exits 0; rejects with its output otherwise. */
  result<T>(): Promise<T>;
  /** SIGTERM, then SIGKILL after graceMs; resolves with the exit code. */
  stop(graceMs?: number): Promise<number>;
}

export function spawnChild(name: string, cmd: string[], env: Record<string, string> = {}): Child {
  const proc = Bun.spawn(cmd, {
    env: { ...process.env, ...env },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  let text = "";
  const child: Child = {
    name,
    proc,
    output: () => text,
    async result<T>(): Promise<T> {
      const code = await proc.exited;
      await drained;
      const line = text
        .split("\n")
        .reverse()
        .find((l) => l.startsWith("RESULT "));
      if (code !== 0 || !line) throw new Error(`${name} exited with ${code}:\n${tail(text)}`);
      return JSON.parse(line.slice("RESULT ".length)) as T;
    },
    async stop(graceMs = 30_000) {
      const code = await stopProcess(proc, graceMs);
      await drained;
      return code;
    },
  };
  const collect = async (stream: ReadableStream<Uint8Array>, lines: boolean) => {
    const decoder = new TextDecoder();
    let partial = "";
    for await (const chunk of stream) {
      const piece = decoder.decode(chunk, { stream: true });
      text += piece;
      if (process.env.DEBUG) process.stderr.write(piece.replace(/^/gm, `${name} | `));
      if (!lines) continue;
      partial += piece;
      const parts = partial.split("\n");
      partial = parts.pop() ?? "";
      for (const l of parts) child.onLine?.(l);
    }
  };
  const drained = Promise.all([collect(proc.stdout, true), collect(proc.stderr, false)]);
  return child;
}

/** CPU seconds (user + system) of a child that has exited, over its whole life. */
export function exitedCpuSeconds(proc: Subprocess): number {
  const usage = proc.resourceUsage();
  return usage ? Number(usage.cpuTime.total) / 1e6 : 0;
}

export function tail(text: string, lines = 30): string {
  return text.trimEnd().split("\n").slice(-lines).join("\n");
}

/**
 * CPU time per group of processes over one phase. sample() reads every pid's ticks; pids first seen
 * after start() are counted from zero (they were born during the phase), a pid that exits keeps its
 * last sample. Shares are of the whole machine (all cores), so they add up to the busy share.
 */
export class CpuMeter {
  private first = new Map<number, number>();
  private last = new Map<number, number>();
  private group = new Map<number, string>();
  private startedAt = 0;
  private endedAt = 0;
  private busy0 = 0;
  private busy1 = 0;
  private timer: ReturnType<typeof setInterval> | null = null;

  constructor(private readonly pidsOf: () => Promise<Record<string, number[]>> | Record<string, number[]>) {}

  async start(everyMs = 500): Promise<void> {
    this.startedAt = performance.now();
    this.busy0 = machineBusyTicks();
    await this.sample(true);
    this.timer = setInterval(() => void this.sample(false), everyMs);
  }

  async sample(initial = false): Promise<void> {
    let groups: Record<string, number[]>;
    try {
      groups = await this.pidsOf();
    } catch {
      return; // the phase is ending (its database closed): keep the last samples
    }
    for (const [name, pids] of Object.entries(groups)) {
      for (const pid of pids) {
        const ticks = cpuTicks(pid);
        if (ticks === null) continue;
        if (!this.first.has(pid)) this.first.set(pid, initial ? ticks : 0);
        this.last.set(pid, ticks);
        this.group.set(pid, name);
      }
    }
  }

  /**
   * A process of `group` born during the phase that has exited: its whole CPU time, which the
   * samples (every 500 ms) would miss the last part of, or all of for a short-lived one.
   */
  settle(group: string, pid: number, cpuSeconds: number): void {
    this.group.set(pid, group);
    if (!this.first.has(pid)) this.first.set(pid, 0);
    this.last.set(pid, Math.round(cpuSeconds * CLOCK_TICKS));
  }

  /** Stops sampling without a result (a phase that failed). */
  cancel(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  async stop(): Promise<CpuShares> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.sample(false);
    this.endedAt = performance.now();
    this.busy1 = machineBusyTicks();
    const seconds = (this.endedAt - this.startedAt) / 1000;
    const capacity = seconds * CLOCK_TICKS * CORES;
    const byGroup: Record<string, number> = {};
    for (const [pid, ticks] of this.last) {
      const name = this.group.get(pid) as string;
      byGroup[name] = (byGroup[name] ?? 0) + (ticks - (this.first.get(pid) ?? 0));
    }
    const shares: Record<string, number> = {};
    const cpuSeconds: Record<string, number> = {};
    let ours = 0;
    for (const [name, ticks] of Object.entries(byGroup)) {
      shares[name] = ticks / capacity;
      cpuSeconds[name] = ticks / CLOCK_TICKS;
      ours += ticks;
    }
    const busyTicks = this.busy1 - this.busy0;
    const busy = busyTicks / capacity;
    shares.other = Math.max(0, busy - ours / capacity);
    cpuSeconds.other = Math.max(0, busyTicks - ours) / CLOCK_TICKS;
    return { seconds, busy, busySeconds: busyTicks / CLOCK_TICKS, shares, cpuSeconds };
  }
}

/** CPU µs per order of each group and of the whole machine (`total`), from a phase's CpuShares. */
export function cpuAccount(cpu: CpuShares, orders: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [group, s] of Object.entries(cpu.cpuSeconds)) out[group] = (s / orders) * 1e6;
  out.total = (cpu.busySeconds / orders) * 1e6;
  return out;
}

export interface CpuShares {
  seconds: number;
  /** Share of the whole machine that was busy (1 = every core busy for the whole phase). */
  busy: number;
  /** CPU seconds the whole machine was busy (all cores). */
  busySeconds: number;
  /** Share of the whole machine per group; `other` is busy time no tracked process accounts for. */
  shares: Record<string, number>;
  /** CPU seconds per group (user + system, all its processes); `other` as in shares. They add up to busySeconds. */
  cpuSeconds: Record<string, number>;
}

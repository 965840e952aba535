// One progress line on stderr, redrawn in place on a terminal; without a terminal (CI, the smoke
// test) only the finished line of each step is printed.

const tty = Boolean(process.stderr.isTTY);
const WIDTH = 28;

export class Progress {
  private readonly started = performance.now();
  private lastDraw = 0;

  constructor(
    private readonly label: string,
    private readonly total: number,
    private readonly quiet = false,
  ) {}

  update(done: number, note = ""): void {
    if (!tty || this.quiet) return;
    const now = performance.now();
    if (now - this.lastDraw < 100 && done < this.total) return;
    this.lastDraw = now;
    process.stderr.write(`\r\x1b[2K${this.line(done, note)}`);
  }

  finish(note = ""): void {
    if (this.quiet) return;
    process.stderr.write(`${tty ? "\r\x1b[2K" : ""}${this.line(this.total, note)}\n`);
  }

  private line(done: number, note: string): string {
    const share = this.total > 0 ? Math.min(1, done / this.total) : 1;
    const cells = Math.round(share * WIDTH);
    const bar = "█".repeat(cells) + "░".repeat(WIDTH - cells);
    const secs = ((performance.now() - this.started) / 1000).toFixed(1);
    return `  ${this.label.padEnd(26)} ${bar} ${String(Math.round(share * 100)).padStart(3)}%  ${secs.padStart(6)} s  ${note}`;
  }
}

/** A step without a count (a reference tool running): the bar fills along an expected duration. */
export async function withSpinner<T>(
  label: string,
  expectedS: number,
  work: Promise<T>,
  quiet = false,
  note?: (r: T) => string,
): Promise<T> {
  const p = new Progress(label, 1000, quiet);
  const started = performance.now();
  const timer = setInterval(() => p.update(Math.min(990, ((performance.now() - started) / 1000 / expectedS) * 1000)), 200);
  try {
    const result = await work;
    p.finish(note?.(result) ?? "");
    return result;
  } finally {
    clearInterval(timer);
  }
}

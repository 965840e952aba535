// Progress of the year on stderr: a redrawn bar on a terminal, a plain line every few seconds
// otherwise (CI logs, pipes).

export interface Progress {
  daysDone: number;
  days: number;
  ordersDone: number;
  orders: number;
  elapsedMs: number;
}

const BAR_CELLS = 24;

export function formatProgress(p: Progress): string {
  const rate = p.elapsedMs > 0 ? (p.ordersDone * 1000) / p.elapsedMs : 0;
  const left = Math.max(0, p.orders - p.ordersDone);
  const eta = rate > 0 ? `${Math.ceil(left / rate)} s` : "?";
  const filled = p.days > 0 ? Math.round((BAR_CELLS * p.daysDone) / p.days) : BAR_CELLS;
  const bar = "#".repeat(filled) + "-".repeat(BAR_CELLS - filled);
  return `[${bar}] ${p.daysDone}/${p.days} days | ${p.ordersDone.toLocaleString("en-US")} orders | ${Math.round(rate).toLocaleString("en-US")} orders/s | ETA ${eta}`;
}

export function progressPrinter(
  out: NodeJS.WriteStream = process.stderr,
  lineEveryMs = 5000,
): { update(p: Progress): void; done(p: Progress): void } {
  const tty = out.isTTY === true;
  let last = 0;
  return {
    update(p) {
      const now = performance.now();
      if (now - last < (tty ? 100 : lineEveryMs)) return;
      last = now;
      out.write(tty ? `\r${formatProgress(p)}\x1b[K` : `${formatProgress(p)}\n`);
    },
    done(p) {
      out.write(tty ? `\r${formatProgress(p)}\x1b[K\n` : `${formatProgress(p)}\n`);
    },
  };
}

// Errors shopstream throws: a message that says what failed, the error that caused it kept as
// `cause`, and whether trying again can help. describe() turns any error, with its causes, into the
// one line a log or a dead letter carries.

export class ShopstreamError extends Error {
  /** True when the same call may succeed later (a server away, a lock taken); false for bad input or bad config. */
  readonly retriable: boolean;

  constructor(message: string, opts: { cause?: unknown; retriable?: boolean } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = new.target.name;
    this.retriable = opts.retriable ?? false;
  }
}

/**
 * One line for any error: its message, then the messages of what caused it (Error.cause, and the
 * errors an AggregateError collects), each once. Client libraries wrap the broker's real answer two
 * levels deep ("Producing messages failed." → "… MESSAGE_TOO_LARGE"): the line carries both.
 */
export function describe(err: unknown): string {
  const seen = new Set<string>();
  const parts: string[] = [];
  const visit = (e: unknown, depth: number) => {
    if (depth > 4 || e === undefined || e === null) return;
    const text = e instanceof Error ? e.message : String(e);
    if (text && !seen.has(text) && !parts.some((p) => p.includes(text))) {
      seen.add(text);
      parts.push(text);
    }
    if (e instanceof AggregateError) for (const inner of e.errors.slice(0, 3)) visit(inner, depth + 1);
    if (e instanceof Error) visit(e.cause, depth + 1);
  };
  visit(err, 0);
  return parts.join(": ") || "unknown error";
}

/** `err` as an Error (a thrown string or object becomes the message of a new one). */
export function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(describe(err));
}

/**
 * Awaits a cleanup step whose failure changes nothing for the caller: closing a client that already
 * failed, releasing a lock its connection's end releases anyway. Says why in the name, where a bare
 * `.catch(() => {})` would hide it.
 */
export async function bestEffort(step: Promise<unknown> | undefined): Promise<void> {
  try {
    await step;
  } catch {
    // the step's own failure is not the caller's concern (see above)
  }
}

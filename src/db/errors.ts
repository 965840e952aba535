// Which database errors a consumer may retry and which belong to one record (docs/design.md, "Faults").

export interface DbErrorClass {
  /** The record(s) themselves are wrong: retrying cannot help, isolate and dead-letter them. */
  permanent: boolean;
  /** SQLSTATE when the server sent one (postgres.js puts it in `code`). */
  sqlstate?: string;
}

const SQLSTATE = /^[0-9A-Z]{5}$/;

/**
 * Permanent: data exceptions (class 22: out of range, bad encoding, NUL in text …) and integrity
 * violations (class 23) other than a foreign key, whose missing row may still arrive. Everything
 * else is transient: connection loss (08, or a client-side code such as ECONNREFUSED), shutdowns
 * (57P0x), serialization failures and deadlocks (40001, 40P01), resource limits (53), and errors
 * a deploy must fix (a missing column): pausing loses nothing, dead-lettering would.
 */
export function classifyDbError(err: unknown): DbErrorClass {
  // only the server's errors carry a SQLSTATE; a client-side code of five letters (EPIPE) is not one
  const { code, name } = (err ?? {}) as { code?: unknown; name?: unknown };
  if (name !== "PostgresError" || typeof code !== "string" || !SQLSTATE.test(code)) return { permanent: false };
  const permanent = code.startsWith("22") || (code.startsWith("23") && code !== "23503");
  return { permanent, sqlstate: code };
}

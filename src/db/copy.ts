import { asError } from "../errors.ts";
import type { Sql } from "./client.ts";

export type CopyValue = string | number | boolean | Date | null | undefined;

/**
 * COPY rows into a table in PostgreSQL's text format, the fastest bulk path (about twice an unnest
 * insert). `sql` may be a transaction. Rows are encoded in chunks of about 1 MB, back-pressure respected.
 */
export async function copyRows(sql: Sql, table: string, columns: readonly string[], rows: Iterable<readonly CopyValue[]>): Promise<number> {
  let count = 0;
  function* chunks(): Generator<string> {
    let chunk = "";
    for (const row of rows) {
      chunk += encodeRow(row);
      count++;
      if (chunk.length > 1 << 20) {
        yield chunk;
        chunk = "";
      }
    }
    yield chunk;
  }
  await copyChunks(sql, table, columns, chunks());
  return count;
}

/** COPY text already in COPY's format (lines, or ~1 MB pieces of them) in one COPY, committed when this resolves. */
export async function copyChunks(
  sql: Sql,
  table: string,
  columns: readonly string[],
  chunks: Iterable<string | Uint8Array>,
): Promise<void> {
  const stream = await CopyStream.open(sql, table, columns);
  try {
    for (const chunk of chunks) await stream.write(chunk);
  } catch (err) {
    stream.abort(err);
    throw err;
  }
  await stream.end();
}

type CopyWritable = Awaited<ReturnType<ReturnType<Sql["unsafe"]>["writable"]>>;

/**
 * A COPY … FROM STDIN kept open while text is fed to it, with back-pressure. PostgreSQL may refuse
 * the rows at any point, while they are still being sent or when the COPY ends: either way the
 * caller's next write() or end() rejects with the server's error (postgres.js 3.4.9 lost the error
 * at the end, patched in patches/postgres@3.4.9.patch), never waits for a 'drain' that will not come.
 */
export class CopyStream {
  private failure: Error | null = null;

  private constructor(private readonly stream: CopyWritable) {
    stream.on("error", (err: Error) => {
      this.failure ??= err;
    });
  }

  static async open(sql: Sql, table: string, columns: readonly string[]): Promise<CopyStream> {
    return new CopyStream(await sql.unsafe(`copy ${table} (${columns.join(", ")}) from stdin`).writable());
  }

  /**
   * Hands text to the socket; waits only when PostgreSQL is behind, otherwise yields one turn of the
   * event loop so the socket drains while the next piece is generated.
   */
  async write(chunk: string | Uint8Array): Promise<void> {
    this.check();
    if (chunk.length === 0) return;
    if (this.stream.write(chunk)) await new Promise<void>((resolve) => setImmediate(resolve));
    else await this.waitFor("drain");
    this.check();
  }

  /** Ends the COPY; resolves once PostgreSQL has committed it, rejects with its error when it refused the rows. */
  async end(): Promise<void> {
    this.check();
    await new Promise<void>((resolve, reject) => {
      this.stream.once("error", reject);
      this.stream.end((err?: Error | null) => (err ? reject(err) : resolve()));
    });
    this.check();
  }

  /** Gives the COPY up (PostgreSQL rolls it back), freeing the connection for other statements. */
  abort(reason: unknown): void {
    this.stream.destroy(asError(reason));
  }

  private waitFor(event: string): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise<void>((resolve, reject) => {
      const onError = (err: Error) => {
        this.stream.off(event, onEvent);
        reject(err);
      };
      const onEvent = () => {
        this.stream.off("error", onError);
        resolve();
      };
      this.stream.once(event, onEvent);
      this.stream.once("error", onError);
    });
  }

  private check(): void {
    if (this.failure) throw this.failure;
  }
}

export function encodeRow(row: readonly CopyValue[]): string {
  let line = "";
  for (let i = 0; i < row.length; i++) {
    if (i > 0) line += "\t";
    line += encodeValue(row[i]);
  }
  return `${line}\n`;
}

function encodeValue(v: CopyValue): string {
  if (v === null || v === undefined) return "\\N";
  if (v instanceof Date) return v.toISOString();
  if (typeof v === "boolean") return v ? "t" : "f";
  if (typeof v === "number") return String(v);
  return v.replace(/[\\\t\n\r]/g, (c) => (c === "\\" ? "\\\\" : c === "\t" ? "\\t" : c === "\n" ? "\\n" : "\\r"));
}

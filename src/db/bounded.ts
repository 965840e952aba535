import { ShopstreamError } from "../errors.ts";
import { connect, type Sql } from "./client.ts";

// Uses of PostgreSQL that cannot hang, every long-running service's (docs/design.md, "Faults"). A
// PostgreSQL that is frozen (SIGSTOP, a VM paused, a dead disk) or black-holed keeps its TCP
// connections open: the kernel acknowledges what is sent and answers keepalives, so a query on an
// open connection waits forever, and the server cannot enforce its own statement_timeout either.
// postgres.js has no per-query timeout, and a query abandoned after a timer keeps its connection
// busy. So the deadline is kept here, on the client: a use unanswered in time destroys the pool's
// connections (what they were running fails, and the next use opens a new pool) and fails as
// transient. Measured against a SIGSTOPped server (postgres.js 3.4.9): a query on an open
// connection never returns; a new connection fails after connect_timeout (10 s);
// end({ timeout: 0 }) rejects what is in flight at once. A destroyed connection's socket is
// released when the server answers again (or TCP gives up).

/** A query or write PostgreSQL did not answer in time: transient, like a connection lost. */
export class QueryTimeout extends ShopstreamError {
  constructor(what: string, ms: number) {
    super(`${what}: PostgreSQL did not answer within ${ms} ms (PG_QUERY_TIMEOUT_MS); its connections were dropped`, {
      retriable: true,
    });
  }
}

/** How long end() lets open queries finish before their connections are destroyed. */
const END_TIMEOUT_S = 5;

/** A pool whose every use through run() is bounded by `timeoutMs`, on the client and (statement_timeout) on the server. */
export class BoundedPool {
  private sql: Sql;
  private ended = false;

  constructor(
    private readonly url: string,
    private readonly opts: { max: number; timeoutMs: number },
  ) {
    this.sql = this.open();
  }

  private open(): Sql {
    // the server cancels a statement it works on for that long (a lock wait, a slow plan) itself,
    // keeping the connection; a statement left behind by a destroyed connection ends as well
    return connect(this.url, { max: this.opts.max, statementTimeoutMs: this.opts.timeoutMs });
  }

  /**
   * Runs `work` (one or more statements, a transaction) on the pool. When it has not settled within
   * the deadline: rejects with QueryTimeout, and the pool's connections are destroyed. The work may
   * still have reached the server and commit once it answers again: writes must be idempotent.
   */
  async run<T>(what: string, work: (sql: Sql) => Promise<T>): Promise<T> {
    const pool = this.sql;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        if (this.sql === pool && !this.ended) this.sql = this.open();
        // rejects everything still running on it; a pool that cannot even end is no concern of this write
        pool.end({ timeout: 0 }).catch(() => {});
        reject(new QueryTimeout(what, this.opts.timeoutMs));
      }, this.opts.timeoutMs);
    });
    try {
      return await Promise.race([work(pool), late]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Closes the pool; a query still waiting on a server that does not answer is given END_TIMEOUT_S. */
  async end(): Promise<void> {
    this.ended = true;
    await this.sql.end({ timeout: END_TIMEOUT_S });
  }
}

/** Where PostgreSQL is used: a service's BoundedPool, or a plain pool (the one-shot tools, the tests). */
export type Db = Sql | BoundedPool;

/** Runs `work` on `db`: within its deadline on a BoundedPool (failing as QueryTimeout), as is on a plain pool. */
export function withDb<T>(db: Db, what: string, work: (sql: Sql) => Promise<T>): Promise<T> {
  return db instanceof BoundedPool ? db.run(what, work) : work(db);
}

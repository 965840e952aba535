import { chownSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePorts } from "../../support/ports.ts";

// A private PostgreSQL cluster on its own port and directory, for tests that must kill the
// database. Uses the system's binaries; run as the postgres user when the suite runs as root.

const BIN = (() => {
  const found = Bun.spawnSync(["bash", "-c", "ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1"]).stdout.toString().trim();
  return found || "/usr/lib/postgresql/15/bin";
})();

export class PrivatePostgres {
  readonly dir = mkdtempSync(join(tmpdir(), "shopstream-pg-"));
  readonly port = freePorts();
  readonly url = `postgres://postgres@127.0.0.1:${this.port}/shopstream`;

  /** `settings`: server settings it starts with (e.g. wal_level=logical for CDC). */
  constructor(private readonly settings: Record<string, string> = {}) {}

  private run(cmd: string): void {
    const asPostgres = process.getuid?.() === 0 ? ["su", "postgres", "-c", cmd] : ["bash", "-c", cmd];
    const res = Bun.spawnSync(asPostgres, { stdout: "pipe", stderr: "pipe" });
    if (res.exitCode !== 0) throw new Error(`${cmd}: ${res.stderr.toString() || res.stdout.toString()}`);
  }

  async init(): Promise<void> {
    if (process.getuid?.() === 0) {
      const pw = Bun.spawnSync(["id", "-u", "postgres"]).stdout.toString().trim();
      const gid = Bun.spawnSync(["id", "-g", "postgres"]).stdout.toString().trim();
      chownSync(this.dir, Number(pw), Number(gid));
    }
    this.run(`${BIN}/initdb -D ${this.dir}/data -A trust -U postgres > /dev/null`);
    await this.start();
  }

  async start(): Promise<void> {
    const extra = Object.entries(this.settings)
      .map(([k, v]) => ` -c ${k}=${v}`)
      .join("");
    this.run(
      `${BIN}/pg_ctl -D ${this.dir}/data -o "-p ${this.port} -k ${this.dir} -c listen_addresses=127.0.0.1${extra}" -l ${this.dir}/log -w start > /dev/null`,
    );
  }

  /** Immediate shutdown: connections drop as in a crash. */
  stop(): void {
    this.run(`${BIN}/pg_ctl -D ${this.dir}/data -m immediate -w stop > /dev/null`);
  }

  /**
   * SIGSTOP the postmaster, then every process it forked (backends, checkpointer, walwriter …): the
   * server hangs with its sockets open, as a frozen VM or a stuck disk would leave it. The kernel
   * still accepts connections and acknowledges bytes; nothing answers them.
   */
  freeze(): number[] {
    const postmaster = this.postmasterPid();
    process.kill(postmaster, "SIGSTOP"); // first, so that it forks nothing new while its children stop
    const children = childrenOf(postmaster);
    for (const pid of children) process.kill(pid, "SIGSTOP");
    return [postmaster, ...children];
  }

  /** SIGCONT every process of the server: it carries on where it stopped. */
  thaw(): void {
    const postmaster = this.postmasterPid();
    for (const pid of childrenOf(postmaster)) process.kill(pid, "SIGCONT");
    process.kill(postmaster, "SIGCONT");
  }

  private postmasterPid(): number {
    const pid = Number(readFileSync(`${this.dir}/data/postmaster.pid`, "utf8").split("\n")[0]);
    if (!(pid > 0)) throw new Error(`no postmaster running for ${this.dir}`);
    return pid;
  }

  destroy(): void {
    try {
      this.thaw(); // a stopped server ignores pg_ctl stop
    } catch {
      // not running
    }
    try {
      this.stop();
    } catch {
      // already stopped
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Pids whose parent is `ppid` (from /proc: no pgrep needed). */
function childrenOf(ppid: number): number[] {
  return readdirSync("/proc")
    .filter((d) => /^\d+$/.test(d))
    .flatMap((pid) => {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
        return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]) === ppid ? [Number(pid)] : [];
      } catch {
        return []; // exited meanwhile
      }
    });
}

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePorts } from "./ports.ts";

// A private 3-broker KRaft cluster on ports of its own with its own state directory, for tests that
// kill brokers (and the broker-kill benchmark): deploy/local/infra.sh with SHOPSTREAM_HOME and port bases of its own, sharing the
// jars of the main cluster. The shared cluster on 19092-19094 is never touched.

const INFRA = join(import.meta.dir, "../deploy/local/infra.sh");

function run(args: string[], env: Record<string, string> = {}): string {
  const res = Bun.spawnSync(["bash", INFRA, ...args], { env: { ...process.env, ...env }, stdout: "pipe", stderr: "pipe" });
  if (res.exitCode !== 0) throw new Error(`infra.sh ${args.join(" ")} failed:\n${res.stderr.toString()}${res.stdout.toString()}`);
  return res.stdout.toString();
}

export class PrivateKafka {
  readonly home = mkdtempSync(join(tmpdir(), "shopstream-kafka-"));
  /** Clients on base+1..3, controllers on base+6..8. */
  readonly clientBase = freePorts(9);
  readonly brokers = [1, 2, 3].map((n) => `127.0.0.1:${this.clientBase + n}`);
  private readonly env: Record<string, string>;

  constructor() {
    // the main cluster's jar directory (resolved once by Maven), so this one downloads nothing
    const libs = run(["kafka-classpath"]).trim().replace(/\/\*$/, "");
    this.env = {
      SHOPSTREAM_HOME: this.home,
      KAFKA_LIBS: libs,
      KAFKA_CLIENT_PORT_BASE: String(this.clientBase),
      KAFKA_CONTROLLER_PORT_BASE: String(this.clientBase + 5),
      // a broker restarted beside a busy test run loads its logs slowly: wait longer than for the shared cluster
      KAFKA_START_TIMEOUT_S: process.env.KAFKA_START_TIMEOUT_S ?? "240",
    };
  }

  async start(): Promise<void> {
    await this.infra(["kafka-up"]);
  }

  /** SIGKILL: the broker dies as in a crash. */
  kill(node: number): Promise<void> {
    return this.infra(["node-kill", String(node)]);
  }

  /** SIGTERM: controlled shutdown, leaders move away first. */
  stop(node: number): Promise<void> {
    return this.infra(["node-stop", String(node)]);
  }

  /** Starts a stopped broker and resolves once it serves again. */
  restart(node: number): Promise<void> {
    return this.infra(["node-start", String(node)]);
  }

  async destroy(): Promise<void> {
    try {
      await this.infra(["kafka-down"]);
    } finally {
      rmSync(this.home, { recursive: true, force: true });
    }
  }

  private async infra(args: string[]): Promise<void> {
    const proc = Bun.spawn(["bash", INFRA, ...args], { env: { ...process.env, ...this.env }, stdout: "pipe", stderr: "pipe" });
    const [code, out, err] = await Promise.all([proc.exited, new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
    if (code !== 0) throw new Error(`infra.sh ${args.join(" ")} (private cluster) failed:\n${err}${out}`);
  }
}

import type { Subprocess } from "bun";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePorts } from "../../support/ports.ts";

/** A private redis-server on its own port and directory, for tests that must kill Redis. */
export class PrivateRedis {
  private proc: Subprocess | null = null;
  readonly dir = mkdtempSync(join(tmpdir(), "shopstream-redis-"));
  readonly port = freePorts();
  readonly url = `redis://127.0.0.1:${this.port}`;

  async start(): Promise<void> {
    this.proc = Bun.spawn(
      ["redis-server", "--port", String(this.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", this.dir],
      { stdout: "ignore", stderr: "ignore" },
    );
    for (let i = 0; i < 100; i++) {
      const ping = Bun.spawnSync(["redis-cli", "-p", String(this.port), "ping"]);
      if (ping.stdout.toString().trim() === "PONG") return;
      await Bun.sleep(50);
    }
    throw new Error(`redis-server on ${this.port} did not start`);
  }

  async kill(): Promise<void> {
    this.proc?.kill("SIGKILL");
    await this.proc?.exited;
    this.proc = null;
  }

  async destroy(): Promise<void> {
    await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

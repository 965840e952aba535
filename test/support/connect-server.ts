import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePorts } from "../../support/ports.ts";
import { runInfra } from "./infra.ts";
import { config } from "./kafka.ts";

const ROOT = join(import.meta.dir, "..", "..");

/**
 * A private Kafka Connect worker, for tests that kill it: deploy/local/infra.sh's own connect-up on
 * a port, a state directory and a group of its own (its config/offset/status topics named after
 * `group`, on the shared cluster). It runs the jars the shared worker resolved (CONNECT_LIBS,
 * CONNECT_PLUGINS), resolving them there first when none has yet.
 */
export class PrivateConnect {
  readonly home = mkdtempSync(join(tmpdir(), "shopstream-connect-"));
  readonly port = freePorts();
  readonly url = `http://127.0.0.1:${this.port}`;

  constructor(readonly group: string) {}

  private env(): Record<string, string> {
    const shared = join(process.env.SHOPSTREAM_HOME ?? join(ROOT, ".local"), "connect");
    return {
      ...(process.env as Record<string, string>),
      SHOPSTREAM_HOME: this.home,
      CONNECT_LIBS: process.env.CONNECT_LIBS ?? join(shared, "libs"),
      CONNECT_PLUGINS: process.env.CONNECT_PLUGINS ?? join(shared, "plugins"),
      CONNECT_URL: this.url,
      CONNECT_GROUP: this.group,
      KAFKA_BROKERS: config.kafkaBrokers.join(","),
      // started beside a busy test run: wait longer than for the shared worker
      CONNECT_START_TIMEOUT_S: process.env.CONNECT_START_TIMEOUT_S ?? "240",
    };
  }

  private infra(command: string): Promise<void> {
    return runInfra(command, this.env());
  }

  start(): Promise<void> {
    return this.infra("connect-up");
  }

  kill(): Promise<void> {
    return this.infra("connect-kill");
  }

  /** infra.sh's whole `down` on this worker's home, with the pipeline's settings in `env` (DATABASE_URL, TOPIC_PREFIX). */
  down(env: Record<string, string>): Promise<void> {
    return runInfra("down", { ...this.env(), ...env });
  }

  async answers(): Promise<boolean> {
    return fetch(this.url, { signal: AbortSignal.timeout(2000) }).then(
      (r) => r.ok,
      () => false,
    );
  }

  async destroy(): Promise<void> {
    await this.infra("connect-down").catch(() => undefined);
    rmSync(this.home, { recursive: true, force: true });
  }
}

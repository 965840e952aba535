import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePorts } from "../../support/ports.ts";
import { runInfra } from "./infra.ts";

const ROOT = join(import.meta.dir, "..", "..");

/**
 * A private schema registry, for tests that kill it: deploy/local/infra.sh's own registry-up on
 * ports and a state directory of its own, storing its schemas in the database `<db>_registry` of
 * `databaseUrl` (dropped by the caller with its database). It runs the app the shared registry
 * unpacked (REGISTRY_APP), so nothing is downloaded again.
 */
export class PrivateRegistry {
  readonly home = mkdtempSync(join(tmpdir(), "shopstream-registry-"));
  readonly port = freePorts(2);
  readonly url = `http://127.0.0.1:${this.port}/apis/ccompat/v7`;

  constructor(private readonly databaseUrl: string) {}

  private env(): Record<string, string> {
    const app = process.env.REGISTRY_APP ?? join(process.env.SHOPSTREAM_HOME ?? join(ROOT, ".local"), "registry/app-3.3.3");
    return {
      ...(process.env as Record<string, string>),
      SHOPSTREAM_HOME: this.home,
      REGISTRY_APP: app,
      SCHEMA_REGISTRY_URL: this.url,
      DATABASE_URL: this.databaseUrl,
      // started beside a busy test run: wait longer than for the shared registry
      REGISTRY_START_TIMEOUT_S: process.env.REGISTRY_START_TIMEOUT_S ?? "180",
    };
  }

  private infra(command: string): Promise<void> {
    return runInfra(command, this.env());
  }

  start(): Promise<void> {
    return this.infra("registry-up");
  }

  kill(): Promise<void> {
    return this.infra("registry-kill");
  }

  async destroy(): Promise<void> {
    await this.infra("registry-down").catch(() => undefined);
    rmSync(this.home, { recursive: true, force: true });
  }
}

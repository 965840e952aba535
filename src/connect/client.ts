import { ShopstreamError } from "../errors.ts";
import { sleep } from "../retry.ts";

// A client of Kafka Connect's REST API: the few calls shopstream makes to apply, watch and remove
// its connectors (docs/connect.md).

export type ConnectState = "RUNNING" | "PAUSED" | "STOPPED" | "FAILED" | "UNASSIGNED" | "RESTARTING";

export interface ConnectorStatus {
  name: string;
  connector: { state: ConnectState; worker_id: string; trace?: string };
  tasks: { id: number; state: ConnectState; worker_id: string; trace?: string }[];
}

/** No worker answers, or it answered with a server error: worth trying again. */
export class ConnectUnavailable extends ShopstreamError {
  constructor(message: string, cause?: unknown) {
    super(message, { cause, retriable: true });
  }
}

/** The worker refused a request (a config it cannot validate, a connector it does not know). */
export class ConnectRefused extends ShopstreamError {}

const TIMEOUT_MS = 10_000;

export class ConnectClient {
  constructor(readonly url: string) {}

  /** Creates the connector or updates its config; the same config again changes nothing. */
  async apply(name: string, config: Record<string, string>): Promise<void> {
    await this.call("PUT", `/connectors/${encodeURIComponent(name)}/config`, config);
  }

  /** The connector's state and its tasks', or null when the worker has no such connector. */
  async status(name: string): Promise<ConnectorStatus | null> {
    return (await this.call("GET", `/connectors/${encodeURIComponent(name)}/status`, undefined, [404])) as ConnectorStatus | null;
  }

  /** Restarts the connector's failed instance and failed tasks (those running are left alone). */
  async restartFailed(name: string): Promise<void> {
    await this.call("POST", `/connectors/${encodeURIComponent(name)}/restart?includeTasks=true&onlyFailed=true`);
  }

  /** Starts a stopped or paused connector again. */
  async resume(name: string): Promise<void> {
    await this.call("PUT", `/connectors/${encodeURIComponent(name)}/resume`);
  }

  /**
   * Removes the connector and the source offsets it stored, so that applying it again starts afresh
   * (a new slot, a new snapshot) instead of from a position its dropped slot no longer holds.
   */
  async remove(name: string): Promise<boolean> {
    const path = `/connectors/${encodeURIComponent(name)}`;
    if ((await this.call("PUT", `${path}/stop`, undefined, [404])) === null) return false;
    // the offsets can be reset once every task has stopped
    await this.waitFor(name, (status) => !status || (status.connector.state === "STOPPED" && status.tasks.length === 0), "stopped");
    await this.call("DELETE", `${path}/offsets`, undefined, [404]);
    await this.call("DELETE", path, undefined, [404]);
    // the worker forgets it once the deletion has gone round its group
    await this.waitFor(name, (status) => status === null, "removed");
    return true;
  }

  private async waitFor(name: string, done: (status: ConnectorStatus | null) => boolean, what: string): Promise<void> {
    for (let i = 0; !done(await this.status(name)); i++) {
      if (i >= 60) throw new ConnectUnavailable(`connector ${name} was not ${what} within 30 s on ${this.url}`);
      await sleep(500);
    }
  }

  /** The worker's own description (version, cluster id): answers once it serves requests. */
  async info(): Promise<{ version: string; kafka_cluster_id: string }> {
    return (await this.call("GET", "/")) as { version: string; kafka_cluster_id: string };
  }

  private async call(method: string, path: string, body?: unknown, absent: number[] = []): Promise<unknown> {
    let res: Response;
    try {
      res = await fetch(`${this.url}${path}`, {
        method,
        headers: body === undefined ? {} : { "content-type": "application/json" },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
    } catch (err) {
      throw new ConnectUnavailable(
        `no Kafka Connect worker answers at ${this.url} (CONNECT_URL; \`bash deploy/local/infra.sh connect-up\` starts one)`,
        err,
      );
    }
    if (absent.includes(res.status)) return null;
    const text = await res.text();
    if (res.ok) return text ? JSON.parse(text) : undefined;
    const message = `Kafka Connect at ${this.url} answered ${method} ${path} with ${res.status}: ${messageOf(text)}`;
    // 409: the worker is rebalancing; 5xx: a server error; both pass
    if (res.status === 409 || res.status >= 500) throw new ConnectUnavailable(message);
    throw new ConnectRefused(message);
  }
}

function messageOf(text: string): string {
  try {
    return (JSON.parse(text) as { message?: string }).message ?? text;
  } catch {
    return text.slice(0, 300);
  }
}

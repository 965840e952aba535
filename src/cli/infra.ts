import { connect as tcpConnect } from "node:net";
import { join } from "node:path";
import type { Config } from "../config.ts";
import { ShopstreamError } from "../errors.ts";

// The local stack for start:all and the benchmarks: whatever of PostgreSQL, Redis and the three
// brokers (and, for a FORMAT other than JSON, the schema registry; under CDC=1, Kafka Connect) does not answer is brought up by deploy/local/infra.sh (which reuses what answers).

const ROOT = join(import.meta.dir, "..", "..");

/** True when something accepts TCP on host:port within the timeout. */
export function answers(host: string, port: number, timeoutMs = 1500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = tcpConnect({ host, port, timeout: timeoutMs });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
    socket.once("timeout", () => done(false));
  });
}

function endpoints(config: Config, registry: boolean, connect: boolean): { name: string; host: string; port: number }[] {
  const pg = new URL(config.databaseUrl);
  const redis = new URL(config.redisUrl);
  return [
    { name: "PostgreSQL", host: pg.hostname, port: Number(pg.port || 5432) },
    { name: "Redis", host: redis.hostname, port: Number(redis.port || 6379) },
    ...config.kafkaBrokers.map((b) => {
      const i = b.lastIndexOf(":");
      return { name: `Kafka ${b}`, host: b.slice(0, i).replace(/^\[|\]$/g, ""), port: Number(b.slice(i + 1)) };
    }),
    // the schema registry only when a format needs it (consumers ask it only for framed values)
    ...(registry ? [httpEndpoint("the schema registry", config.schemaRegistryUrl)] : []),
    // Kafka Connect only under CDC=1
    ...(connect ? [httpEndpoint("Kafka Connect", config.connectUrl)] : []),
  ];
}

function httpEndpoint(name: string, url: string): { name: string; host: string; port: number } {
  const u = new URL(url);
  return { name, host: u.hostname, port: Number(u.port || (u.protocol === "https:" ? 443 : 80)) };
}

/**
 * Starts what does not answer with deploy/local/infra.sh up; says what it starts. The schema
 * registry is part of it when FORMAT needs one, or when asked (`registry`); Kafka Connect under CDC=1.
 */
export async function ensureInfra(
  config: Config,
  say: (line: string) => void = console.log,
  opts: { registry?: boolean } = {},
): Promise<void> {
  const registry = opts.registry ?? config.format !== "json";
  const targets = endpoints(config, registry, config.cdc);
  const up = await Promise.all(targets.map((t) => answers(t.host, t.port)));
  const down = targets.filter((_, i) => !up[i]).map((t) => t.name);
  if (down.length === 0) return;
  say(`${down.join(", ")} not answering: starting it with deploy/local/infra.sh up`);
  const env = { ...process.env, FORMAT: config.format, SCHEMA_REGISTRY: registry ? "1" : "", CDC: config.cdc ? "1" : "" };
  const proc = Bun.spawn(["bash", join(ROOT, "deploy/local/infra.sh"), "up"], { env, stdout: "inherit", stderr: "inherit" });
  if ((await proc.exited) !== 0) throw new ShopstreamError("deploy/local/infra.sh up failed (see above)");
}

import { Hono } from "hono";
import type { Registry } from "prom-client";
import { type ScenarioControl, scenarioChoices } from "../cache/scenario-switch.ts";
import { describe, ShopstreamError } from "../errors.ts";
import { SCHEMA_VERSIONS } from "../schema-formats.ts";
import type { SchemaVersionSwitch } from "../schemas/version-switch.ts";
import type { Health, LiveState } from "./live-state.ts";
import { assets, livePage } from "./page.ts";

// The HTTP face of shopstream: /metrics for Prometheus, /healthz, the live page with its JSON
// (/api/live), and the live scenario switch the producer follows within a second.

export interface AppDeps {
  registry(): Promise<Registry>;
  scenario: ScenarioControl;
  /** The live pin of the order schema's version (docs/design.md, "Schemas"). */
  schemaVersion: Pick<SchemaVersionSwitch, "pinned" | "pin" | "clear">;
  /** Each dependency, reachable or not, with why not. */
  health(): Promise<{ up: Health; errors: Partial<Record<keyof Health, string>> }>;
  /** The live page's document; null until the first sample is in. */
  live(): LiveState | null;
  /** Host names a request that changes something must be addressed to (without port). */
  hosts: readonly string[];
}

/** The names this server answers to on loopback, whatever it binds: what `hosts` starts from. */
export const LOOPBACK_HOSTS = ["127.0.0.1", "localhost", "[::1]"] as const;

/**
 * Why a request may not change the scenario, or null. A page elsewhere can reach a server on
 * 127.0.0.1 through DNS rebinding, but its requests then name its own host, so the Host header must
 * be one of ours; a browser's Origin, when sent, must be this server (the live page itself).
 */
export function refusal(host: string | undefined, origin: string | undefined, hosts: readonly string[]): string | null {
  const name = (host ?? "").toLowerCase().replace(/:\d+$/, "");
  if (!hosts.includes(name)) return `Host "${host ?? ""}" is not this server (METRICS_ALLOWED_HOSTS adds names)`;
  if (origin !== undefined) {
    let originHost: string;
    try {
      originHost = new URL(origin).host.toLowerCase();
    } catch {
      return `Origin "${origin}" is not a URL`;
    }
    if (originHost !== (host ?? "").toLowerCase()) return `Origin "${origin}" is not this server's page`;
  }
  return null;
}

export function metricsApp(deps: AppDeps): Hono {
  const app = new Hono();

  app.get("/metrics", async (c) => {
    const reg = await deps.registry();
    return c.text(await reg.metrics(), 200, { "Content-Type": reg.contentType });
  });

  // 503 as soon as one dependency is down, with which one and why: what a load balancer or a
  // compose healthcheck needs, and what a person reads first
  app.get("/healthz", async (c) => {
    const { up, errors } = await deps.health();
    const ok = Object.values(up).every(Boolean);
    return c.json({ ok, ...up, ...(ok ? {} : { errors }) }, ok ? 200 : 503);
  });

  app.get("/api/live", (c) => {
    const state = deps.live();
    return state ? c.json(state) : c.json({ error: "the first sample is not in yet" }, 503);
  });

  app.get("/scenario", async (c) => c.json({ active: (await deps.scenario.pinned()) ?? "auto", available: scenarioChoices() }));

  app.get("/schema-version", async (c) =>
    c.json({ pinned: await deps.schemaVersion.pinned(), versions: SCHEMA_VERSIONS.orders, topics: deps.live()?.schemas.topics ?? [] }),
  );

  // PUT /scenario/black_friday pins a scenario; DELETE /scenario returns to the hour-based default;
  // PUT /schema-version/2 has every producer of orders write version 2 of the order schema
  for (const path of ["/scenario", "/scenario/*", "/schema-version", "/schema-version/*"])
    app.on(["PUT", "DELETE", "POST", "PATCH"], path, async (c, next) => {
      // Bun.serve builds the URL from the Host header; a request made in-process may carry none
      const why = refusal(c.req.header("host") ?? new URL(c.req.url).host, c.req.header("origin"), deps.hosts);
      if (why) return c.json({ error: why }, 403);
      await next();
    });
  app.put("/scenario/:id", async (c) => {
    try {
      const scenario = await deps.scenario.pin(c.req.param("id"));
      return c.json({ active: scenario.id });
    } catch (err) {
      if (err instanceof ShopstreamError) return c.json({ error: describe(err) }, 400);
      throw err;
    }
  });
  app.delete("/scenario", async (c) => {
    await deps.scenario.clear();
    return c.json({ active: "auto" });
  });

  app.put("/schema-version/:version", async (c) => {
    try {
      return c.json({ pinned: await deps.schemaVersion.pin(c.req.param("version")) });
    } catch (err) {
      if (err instanceof ShopstreamError) return c.json({ error: describe(err) }, 400);
      throw err;
    }
  });
  app.delete("/schema-version", async (c) => {
    await deps.schemaVersion.clear();
    return c.json({ pinned: null });
  });

  app.get("/assets/:file", (c) => {
    const asset = assets[c.req.param("file")];
    if (!asset) return c.notFound();
    return c.body(asset.body, 200, { "Content-Type": asset.type, "Cache-Control": "max-age=3600" });
  });

  app.get("/", (c) => c.html(livePage()));

  return app;
}

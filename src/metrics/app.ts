import { Hono } from "hono";
import type { Registry } from "prom-client";
import { SCENARIOS, BASELINE, scenarioById } from "../domain/scenarios.ts";

// The HTTP face of shopstream: /metrics for Prometheus, /healthz, a small live status page, and
// the live scenario switch the producer follows within a second.

export interface AppDeps {
  registry(): Promise<Registry>;
  getScenario(): Promise<string | null>;
  setScenario(id: string | null): Promise<void>;
}

export function metricsApp(deps: AppDeps): Hono {
  const app = new Hono();

  app.get("/metrics", async (c) => {
    const reg = await deps.registry();
    return c.text(await reg.metrics(), 200, { "Content-Type": reg.contentType });
  });

  app.get("/healthz", (c) => c.json({ ok: true }));

  app.get("/scenario", async (c) =>
    c.json({ active: (await deps.getScenario()) ?? "auto", available: [BASELINE, ...SCENARIOS].map((s) => ({ id: s.id, name: s.name })) }),
  );

  // PUT /scenario/black_friday pins a scenario; DELETE /scenario returns to the hour-based default
  app.put("/scenario/:id", async (c) => {
    const id = c.req.param("id");
    try {
      scenarioById(id);
    } catch (err) {
      return c.json({ error: err instanceof Error ? err.message : String(err) }, 400);
    }
    await deps.setScenario(id);
    return c.json({ active: id });
  });
  app.delete("/scenario", async (c) => {
    await deps.setScenario(null);
    return c.json({ active: "auto" });
  });

  app.get("/", async (c) => {
    const text = await (await deps.registry()).metrics();
    const pick = (re: RegExp) => text.split("\n").filter((l) => re.test(l));
    const rows = pick(
      /^shopstream_(messages_(produced|consumed)_total|dlq_messages_total|consumer_lag|cache_(hit_ratio|entries|age_seconds|reloads)|users_by_grade|orders_per_second)\b/,
    );
    const body = rows
      .map((l) => `<tr><td>${escapeHtml(l.replace(/ [^ ]+$/, ""))}</td><td>${escapeHtml(l.split(" ").pop() ?? "")}</td></tr>`)
      .join("");
    return c.html(`<!doctype html><meta charset="utf-8"><meta http-equiv="refresh" content="2"><title>shopstream</title>
<style>body{font:14px system-ui;margin:2em}td{padding:2px 12px;border-bottom:1px solid #eee}td:last-child{text-align:right;font-variant-numeric:tabular-nums}</style>
<h1>shopstream — live</h1><p>scenario: <b>${escapeHtml((await deps.getScenario()) ?? "auto")}</b> · <a href="/metrics">/metrics</a></p><table>${body}</table>`);
  });

  return app;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"]/g, (ch) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[ch] as string);
}

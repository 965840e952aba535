import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { answers } from "../../src/cli/infra.ts";

// A real Prometheus (Debian's package, installed by .ci/run) scraping one target every second, with
// its own data directory and port: where the dashboards' PromQL is evaluated.

export class PrivatePrometheus {
  private readonly dir = mkdtempSync(join(tmpdir(), "shopstream-prometheus-"));
  private proc: ReturnType<typeof Bun.spawn> | null = null;
  port = 0;

  constructor(private readonly target: string) {}

  async start(): Promise<void> {
    const config = join(this.dir, "prometheus.yml");
    writeFileSync(
      config,
      `global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  - job_name: shopstream\n    static_configs:\n      - targets: ["${this.target}"]\n`,
    );
    for (let attempt = 0; attempt < 5 && !this.proc; attempt++) {
      const port = 41000 + Math.floor(Math.random() * 8000);
      if (await answers("127.0.0.1", port, 300)) continue;
      const proc = Bun.spawn(
        [
          "prometheus",
          `--config.file=${config}`,
          `--storage.tsdb.path=${join(this.dir, "data")}`,
          `--web.listen-address=127.0.0.1:${port}`,
          "--log.level=warn",
        ],
        { stdout: "ignore", stderr: "pipe" },
      );
      for (let i = 0; i < 100 && proc.exitCode === null; i++) {
        if ((await fetch(`http://127.0.0.1:${port}/-/ready`).catch(() => null))?.ok) {
          this.proc = proc;
          this.port = port;
          return;
        }
        await Bun.sleep(100);
      }
      proc.kill();
    }
    throw new Error("Prometheus did not start (is the Debian package prometheus installed?)");
  }

  /** An instant query; the result vector. */
  async query(expr: string): Promise<{ metric: Record<string, string>; value: [number, string] }[]> {
    const res = await fetch(`http://127.0.0.1:${this.port}/api/v1/query?query=${encodeURIComponent(expr)}`);
    const body = (await res.json()) as {
      status: string;
      error?: string;
      data?: { result: { metric: Record<string, string>; value: [number, string] }[] };
    };
    if (body.status !== "success") throw new Error(`${expr}: ${body.error}`);
    return body.data?.result ?? [];
  }

  async stop(): Promise<void> {
    this.proc?.kill();
    await this.proc?.exited;
    rmSync(this.dir, { recursive: true, force: true });
  }
}

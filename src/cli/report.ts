import { writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { buildReport, ordersRange, renderReport } from "../analytics/report.ts";
import { openDatabase } from "../db/open.ts";
import { seoulDayFlag } from "../domain/seoul-time.ts";
import { flagsOrUsage } from "./usage.ts";
import { runService } from "../services/runtime.ts";

// `bun run report [--out FILE] [--from YYYY-MM-DD] [--to YYYY-MM-DD]`: the shop analytics of the
// database as one self-contained HTML file (charts and data inlined), for people without Grafana.

const USAGE = `usage: bun run report [--out FILE] [--from YYYY-MM-DD] [--to YYYY-MM-DD]
  --out F    where to write the HTML (default: shopstream-report.html)
  --from D   first day, inclusive, a Seoul day as the dashboards' (default: the first order)
  --to D     last day, exclusive (default: after the last order)`;

export function parseReportFlags(argv: string[]): { out: string; from?: Date; to?: Date; help: boolean } {
  const { values } = parseArgs({
    args: argv,
    options: {
      out: { type: "string" },
      from: { type: "string" },
      to: { type: "string" },
      help: { type: "boolean", short: "h", default: false },
    },
    strict: true,
  });
  const date = (flag: string, raw: string | undefined) => (raw === undefined ? undefined : seoulDayFlag(flag, raw));
  return {
    out: values.out ?? "shopstream-report.html",
    from: date("--from", values.from),
    to: date("--to", values.to),
    help: values.help ?? false,
  };
}

if (import.meta.main) {
  runService(
    "report",
    async ({ config, log }) => {
      const flags = flagsOrUsage(USAGE, () => parseReportFlags(Bun.argv.slice(2)));
      if (!flags) return;
      const sql = await openDatabase(config.databaseUrl, { max: 2 });
      try {
        const range = await ordersRange(sql);
        if (!range) {
          log.warn("no orders to report on yet: run the pipeline or `bun run historical` first");
          process.exitCode = 1;
          return;
        }
        const report = await buildReport(sql, flags.from ?? range.from, flags.to ?? range.to);
        const out = resolve(flags.out);
        writeFileSync(out, renderReport(report));
        log.info(`wrote ${out}: ${report.orders.toLocaleString("en-US")} orders, ${report.sections.length} charts`);
      } finally {
        await sql.end();
      }
    },
    { ownFlags: true, metrics: false },
  );
}

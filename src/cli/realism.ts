import { parseArgs } from "node:util";
import { judgeRealism, measureRealism } from "../analytics/realism.ts";
import { ordersSpan } from "../db/analytics.ts";
import { openDatabase } from "../db/open.ts";
import { runService } from "../services/runtime.ts";
import { seoulDayFlag } from "../domain/seoul-time.ts";
import { flagsOrUsage } from "./usage.ts";

// `bun run realism [--source live|historical] [--from D] [--to D] [--simulated-clock]`: how believable the orders table
// is — grade mix, orders and revenue per customer, category shares, hour of day, the busiest
// customer-day — with the target beside each figure. Exits 1 when a target is missed.

const USAGE = `usage: bun run realism [--source live|historical] [--from YYYY-MM-DD] [--to YYYY-MM-DD] [--simulated-clock]
  --source S          only orders of that source (default: all)
  --from D            first day, inclusive (default: the first order)
  --to D              last day, exclusive (default: after the last order)
  --simulated-clock   the live orders came from a --rate run: no hour-tied scenario shaped their categories`;

export function parseRealismFlags(argv: string[]) {
  const { values } = parseArgs({
    args: argv,
    options: {
      source: { type: "string" },
      from: { type: "string" },
      to: { type: "string" },
      "simulated-clock": { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
    strict: true,
  });
  const source = values.source;
  if (source !== undefined && source !== "live" && source !== "historical")
    throw new Error(`--source: expected live or historical, got "${source}"`);
  const date = (flag: string, raw: string | undefined) => (raw === undefined ? undefined : seoulDayFlag(flag, raw));
  return {
    source: source as "live" | "historical" | undefined,
    from: date("--from", values.from),
    to: date("--to", values.to),
    simulatedClock: values["simulated-clock"],
    help: values.help,
  };
}

if (import.meta.main) {
  runService(
    "realism",
    async ({ config, log }) => {
      const flags = flagsOrUsage(USAGE, () => parseRealismFlags(Bun.argv.slice(2)));
      if (!flags) return;
      const sql = await openDatabase(config.databaseUrl, { max: 6 });
      try {
        const span = await ordersSpan(sql, flags.source ?? null);
        if (!span.first || !span.last) {
          log.warn("no orders to judge yet");
          return;
        }
        const from = flags.from ?? span.first;
        const to = flags.to ?? new Date(span.last.getTime() + 1);
        const figures = await measureRealism(sql, { from, to, source: flags.source, simulatedClock: flags.simulatedClock });
        const checks = judgeRealism(figures);
        console.log(
          `${figures.orders.toLocaleString("en-US")} orders (${flags.source ?? "all sources"}) from ${from.toISOString()} to ${to.toISOString()}, ` +
            `${figures.activeCustomers.toLocaleString("en-US")} of ${figures.users.toLocaleString("en-US")} customers ordered`,
        );
        const width = Math.max(...checks.map((c) => c.name.length));
        for (const c of checks) console.log(`${c.ok ? "ok  " : "MISS"}  ${c.name.padEnd(width)}  ${c.value}   (target ${c.target})`);
        console.log(figures.categories.map((c) => `${c.code} ${(c.share * 100).toFixed(1)}/${(c.target * 100).toFixed(1)}`).join("  "));
        if (checks.some((c) => !c.ok)) process.exitCode = 1;
      } finally {
        await sql.end();
      }
    },
    { ownFlags: true, metrics: false },
  );
}

import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { dashboardFiles } from "../analytics/dashboards.ts";

// `bun run dashboards`: writes the Grafana dashboards (src/analytics/dashboards.ts) to
// deploy/grafana/dashboards/, where docker-compose's Grafana provisions them from.

const DIR = join(import.meta.dir, "..", "..", "deploy", "grafana", "dashboards");
for (const [file, json] of Object.entries(dashboardFiles())) {
  writeFileSync(join(DIR, file), json);
  console.log(`wrote deploy/grafana/dashboards/${file}`);
}

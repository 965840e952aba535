import { openDatabase } from "../db/open.ts";
import { runService } from "../services/runtime.ts";

runService(
  "migrate",
  async ({ config, log }) => {
    const sql = await openDatabase(config.databaseUrl);
    await sql.end();
    log.info("schema is up to date");
  },
  { metrics: false },
);

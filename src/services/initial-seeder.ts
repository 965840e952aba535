import { openDatabase } from "../db/open.ts";
import { seedCatalogue } from "../db/seed.ts";
import { runService } from "./runtime.ts";

runService(
  "initial-seeder",
  async ({ config, log }) => {
    const sql = await openDatabase(config.databaseUrl);
    try {
      const result = await seedCatalogue(sql, {
        seed: config.seed,
        users: config.seedUsers,
        products: config.seedProducts,
        now: new Date(),
      });
      if (result.skipped) log.info(`skipped: ${result.reason}`);
      else log.info(`seeded ${result.users} users and ${result.products} products in ${(result.ms / 1000).toFixed(2)} s`);
    } finally {
      await sql.end();
    }
  },
  { metrics: false },
);

import { cdcHandle, cdcState } from "../connect/cdc.ts";
import { CdcWatch } from "../connect/cdc-watch.ts";
import { openDatabase } from "../db/open.ts";
import { describe } from "../errors.ts";
import { StormLog } from "../log.ts";
import { cdcConnector, cdcRestarts, cdcSlotRetained, cdcTasks } from "../metrics/registry.ts";
import { every, runService } from "./runtime.ts";

/** How often the connector and its slot are looked at. */
const LOOK_EVERY_MS = 10_000;

// Under start:all with CDC=1 (docs/connect.md): looks at the CDC connector and its replication slot
// every 10 s, restarts what failed with a growing wait, says so once, and ships the figures to /metrics.
runService("cdc-watch", async ({ config, log, signal }) => {
  const sql = await openDatabase(config.databaseUrl, { max: 1 });
  const cdc = cdcHandle(sql, config);
  const watch = new CdcWatch(cdc.names.connector, config.cdcWalWarnBytes);
  const storm = new StormLog((line) => log.warn(line));
  log.info(`watching connector ${cdc.names.connector} on ${config.connectUrl} and slot ${cdc.names.slot}`);
  await every(
    () => LOOK_EVERY_MS,
    async () => {
      try {
        const state = await cdcState(cdc);
        if (state.slotError) storm.note(state.slotError, "cannot read the CDC replication slot:");
        cdcConnector.reset();
        cdcConnector.set({ state: state.connector }, 1);
        cdcTasks.reset();
        for (const t of state.tasks) cdcTasks.inc({ state: t.state });
        cdcSlotRetained.set(state.slot?.retainedBytes ?? 0);
        const step = watch.observe(state, Date.now());
        for (const line of step.warnings) log.warn(line);
        for (const line of step.notes) log.info(line);
        if (step.restart) {
          cdcRestarts.inc();
          await cdc.connect.restartFailed(cdc.names.connector);
        }
      } catch (err) {
        if (!signal.aborted) storm.note(describe(err), "cannot look at the CDC connector:");
      }
    },
    signal,
    { immediately: true, leaveAtAbort: true },
  );
  storm.close();
  await sql.end({ timeout: 2 });
});

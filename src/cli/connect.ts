import { applyCdc, cdcHandle, cdcState, dropCdc, firstLine } from "../connect/cdc.ts";
import { connect } from "../db/client.ts";
import { openDatabase } from "../db/open.ts";
import { runService } from "../services/runtime.ts";

// `bun run connect apply|status|drop`: the CDC connector on the Kafka Connect worker at CONNECT_URL
// (docs/connect.md). apply creates or updates it and waits until it runs; status prints its state,
// its tasks' and its replication slot's; drop removes it with its offsets, slot and publication.

const USAGE = `usage: bun run connect apply|status|drop
  apply    create or update the CDC connector (Debezium, PostgreSQL → cdc.* topics) and wait until it runs
  status   the connector's and its tasks' states, and the WAL its replication slot holds back
  drop     remove the connector, its stored offsets, its replication slot and publication`;

const MiB = 2 ** 20;

runService(
  "connect",
  async ({ config, log }) => {
    const command = Bun.argv[2];
    if (command === "--help" || command === "-h") return void console.log(USAGE);
    if (command !== "apply" && command !== "status" && command !== "drop") {
      console.error(`${command === undefined ? "no command given" : `unknown command: ${command}`}\n${USAGE}`);
      process.exitCode = 2;
      return;
    }
    // apply readies the schema (the tables captured, their replica identity); status and drop only read and drop
    const sql = command === "apply" ? await openDatabase(config.databaseUrl, { max: 1 }) : connect(config.databaseUrl, { max: 1 });
    const cdc = cdcHandle(sql, config);
    try {
      if (command === "apply") {
        const status = await applyCdc(cdc, config);
        log.info(
          `connector ${status.name} running (${status.tasks.length} task) on ${config.connectUrl}; topics ${cdc.names.topic("orders")} and beside it`,
        );
      } else if (command === "drop") {
        const dropped = await dropCdc(cdc);
        const connector =
          dropped.connector === "unreachable"
            ? `left on its worker (no worker answers at ${config.connectUrl}: it makes a new slot when it is back)`
            : dropped.connector
              ? "removed"
              : "not there";
        log.info(`connector ${cdc.names.connector}: ${connector}; slot ${cdc.names.slot}: ${dropped.slot ? "dropped" : "not there"}`);
      } else {
        const state = await cdcState(cdc);
        console.log(`connector  ${cdc.names.connector}  ${state.connector}`);
        for (const t of state.tasks) console.log(`task ${t.id}     ${t.state}${t.state === "FAILED" ? `  ${firstLine(t.trace)}` : ""}`);
        console.log(
          state.slot
            ? `slot       ${cdc.names.slot}  ${state.slot.active ? "active" : "inactive"}, holding ${(state.slot.retainedBytes / MiB).toFixed(1)} MiB of WAL`
            : `slot       ${cdc.names.slot}  none`,
        );
        if (state.connector !== "RUNNING") process.exitCode = 1;
      }
    } finally {
      await sql.end();
    }
  },
  { metrics: false, ownFlags: true },
);

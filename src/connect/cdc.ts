import type { Config } from "../config.ts";
import type { Sql } from "../db/client.ts";
import { dropSlot, requireLogicalWal, type SlotState, slotState } from "../db/replication.ts";
import { describe, ShopstreamError } from "../errors.ts";
import { POLICIES, retry, sleep } from "../retry.ts";
import { cdcConnectorConfig, type CdcNames, cdcNames } from "./cdc-connector.ts";
import { ConnectClient, type ConnectorStatus, type ConnectState, ConnectUnavailable } from "./client.ts";

// CDC out of shopstream's PostgreSQL (docs/connect.md): the connector applied, its state read,
// and everything it made in PostgreSQL removed with it. Shared by `bun run connect`, start:all and
// the metrics service.

export type CdcSettings = Pick<Config, "databaseUrl" | "topicPrefix" | "connectUrl" | "kafkaPartitions">;

export interface CdcHandle {
  names: CdcNames;
  connect: ConnectClient;
  sql: Sql;
}

export function cdcHandle(sql: Sql, settings: CdcSettings): CdcHandle {
  return { names: cdcNames(settings.databaseUrl, settings.topicPrefix), connect: new ConnectClient(settings.connectUrl), sql };
}

/** How long an applied connector may take to have its task running. */
const RUNNING_WITHIN_MS = 60_000;

/**
 * Applies the connector (idempotent: the same config again changes nothing) and waits until it
 * and its task run. PostgreSQL without logical WAL fails first, in one line saying what to set.
 */
export async function applyCdc(cdc: CdcHandle, settings: CdcSettings): Promise<ConnectorStatus> {
  const where = new URL(settings.databaseUrl).host;
  await requireLogicalWal(cdc.sql, where);
  const deadline = Date.now() + RUNNING_WITHIN_MS;
  // a worker just started, or rebalancing, answers 409 for a while
  const config = cdcConnectorConfig(settings.databaseUrl, settings.topicPrefix, settings.kafkaPartitions);
  await retry(() => cdc.connect.apply(cdc.names.connector, config), {
    ...POLICIES.connectBusy,
    retriable: (err) => err instanceof ConnectUnavailable && Date.now() < deadline,
  });
  // what an earlier run left failed, stopped (a drop cut short) or paused is started again
  let restarted = false;
  for (;;) {
    const status = await cdc.connect.status(cdc.names.connector);
    const failed = status && [status.connector, ...status.tasks].find((s) => s.state === "FAILED");
    if (status && cdcRunning(stateOf(status))) return status;
    if (failed && restarted && Date.now() > deadline)
      throw new ShopstreamError(`connector ${cdc.names.connector} failed: ${firstLine(failed.trace)}`);
    if (failed && !restarted) {
      await cdc.connect.restartFailed(cdc.names.connector);
      restarted = true;
    } else if (status?.connector.state === "STOPPED" || status?.connector.state === "PAUSED") {
      await cdc.connect.resume(cdc.names.connector);
    }
    if (Date.now() > deadline)
      throw new ConnectUnavailable(`connector ${cdc.names.connector} was applied but is not running within ${RUNNING_WITHIN_MS / 1000} s`);
    await sleep(500);
  }
}

function stateOf(status: ConnectorStatus): CdcState {
  return { connector: status.connector.state, tasks: status.tasks, slot: null };
}

/**
 * Removes the connector with its stored offsets, then its replication slot and publication. A
 * worker that does not answer keeps the connector (said in `connector: "unreachable"`), but the slot
 * goes all the same: nobody reads it, and a slot nobody reads fills the disk. The connector then
 * makes a new slot when its worker is back, and carries on from there.
 */
export async function dropCdc(cdc: CdcHandle): Promise<{ connector: boolean | "unreachable"; slot: boolean }> {
  let connector: boolean | "unreachable";
  try {
    connector = await cdc.connect.remove(cdc.names.connector);
  } catch (err) {
    if (!(err instanceof ConnectUnavailable)) throw err;
    connector = "unreachable";
  }
  const slot = await dropSlot(cdc.sql, cdc.names.slot, cdc.names.publication);
  return { connector, slot };
}

export interface CdcState {
  /** The connector's state; MISSING when the worker does not have it, UNREACHABLE when no worker answers. */
  connector: ConnectState | "MISSING" | "UNREACHABLE";
  tasks: { id: number; state: ConnectState; trace?: string }[];
  slot: SlotState | null;
  /** Why the slot could not be read (PostgreSQL away), when it could not. */
  slotError?: string;
}

export async function cdcState(cdc: CdcHandle): Promise<CdcState> {
  // PostgreSQL away: the connector is still looked at (and restarted when it failed)
  let slot: SlotState | null = null;
  let slotError: string | undefined;
  try {
    slot = await slotState(cdc.sql, cdc.names.slot);
  } catch (err) {
    slotError = describe(err);
  }
  const withSlot = slotError === undefined ? {} : { slotError };
  let status: ConnectorStatus | null;
  try {
    status = await cdc.connect.status(cdc.names.connector);
  } catch (err) {
    if (err instanceof ConnectUnavailable) return { connector: "UNREACHABLE", tasks: [], slot, ...withSlot };
    throw err;
  }
  if (!status) return { connector: "MISSING", tasks: [], slot, ...withSlot };
  return {
    connector: status.connector.state,
    tasks: status.tasks.map(({ id, state, trace }) => ({ id, state, trace })),
    slot,
    ...withSlot,
  };
}

/** Whether the connector and every task of it run. */
export function cdcRunning(state: CdcState): boolean {
  return state.connector === "RUNNING" && state.tasks.length > 0 && state.tasks.every((t) => t.state === "RUNNING");
}

/** Fails, saying the state, unless the connector and its tasks run (no PostgreSQL asked: for /healthz). */
export async function cdcConnectorRunning(settings: Pick<Config, "databaseUrl" | "topicPrefix" | "connectUrl">): Promise<void> {
  const name = cdcNames(settings.databaseUrl, settings.topicPrefix).connector;
  const status = await new ConnectClient(settings.connectUrl).status(name);
  if (!status) throw new ShopstreamError(`connector ${name} is not on the worker at ${settings.connectUrl}`);
  const tasks = status.tasks.map((t) => `task ${t.id} ${t.state}`).join(", ") || "no task";
  if (!cdcRunning({ connector: status.connector.state, tasks: status.tasks, slot: null }))
    throw new ShopstreamError(`connector ${name} ${status.connector.state}, ${tasks}`);
}

export function firstLine(trace: string | undefined): string {
  return (trace ?? "no trace").split("\n")[0]!.slice(0, 400);
}

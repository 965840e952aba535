import { afterAll, beforeAll, expect, test } from "bun:test";
import { readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { consumerLag } from "../../src/kafka/lag.ts";
import { type TestDatabase, uniqueSuffix } from "../../support/db.ts";
import { processesOfPrefix } from "../support/services.ts";
import { openStage, type Stage } from "../support/stage.ts";
import type { TestTopics } from "../support/kafka.ts";
import { readTopic } from "../../src/kafka/read-topic.ts";
import { createdIds } from "../../support/events.ts";

// `bun run start:all`, typed as the README shows it, in a real terminal (a tmux pane on a private
// tmux server), stopped the way a person stops it: one Ctrl-C. The terminal signals its whole
// foreground process group (`bun run`, its shell and start:all; each service has a group of its
// own) and `bun run` forwards its SIGINT too, so start:all hears it twice and must take it for one:
// the staged stop runs, producers flush, consumers drain the lag to 0 and commit, everything exits
// 0, and every order in Kafka is in PostgreSQL.

const ROOT = join(import.meta.dir, "../..");
const socket = `shopstream-test-${uniqueSuffix()}`;
const log = join(tmpdir(), `${socket}.log`);
const tmux = (...args: string[]) => Bun.spawnSync(["tmux", "-L", socket, ...args], { stdout: "pipe", stderr: "pipe" });
let stage: Stage;
let db: TestDatabase;
let t: TestTopics;

beforeAll(async () => {
  stage = await openStage({ label: "ctrlc", empty: true });
  ({ db, topics: t } = stage);
});
afterAll(async () => {
  tmux("kill-server");
  await stage?.close();
  rmSync(log, { force: true });
});

/** Pids of processes started for this test's pipeline. */
const ourProcesses = () => processesOfPrefix(t.prefix);

test("Ctrl-C in a terminal stops start:all in stages with the lag drained to 0", async () => {
  const env = { ...stage.env, SEED_USERS: "2000", SEED_PRODUCTS: "2000", CACHE_REFRESH_S: "5" };
  const assignments = Object.entries(env)
    .map(([k, v]) => `${k}=${v}`)
    .join(" ");
  const command = `cd ${ROOT} && exec env ${assignments} ${process.execPath} run start:all --rate 400`;
  const started = tmux(
    "new-session",
    "-d",
    "-s",
    "shop",
    "-x",
    "220",
    "-y",
    "50",
    command,
    ";",
    "set-option",
    "-t",
    "shop",
    "remain-on-exit",
    "on",
  );
  expect(started.exitCode).toBe(0);
  tmux("pipe-pane", "-t", "shop", "-o", `cat >> ${log}`);

  // running: orders flow into PostgreSQL
  const deadline = Date.now() + 90_000;
  for (;;) {
    const [row] = await db.sql`select count(*)::int as n from orders`.catch(() => [{ n: 0 }]);
    if ((row?.n ?? 0) > 2000) break;
    if (Date.now() > deadline) throw new Error(`no orders after 90 s:\n${readFileSync(log, "utf8").slice(-3000)}`);
    await Bun.sleep(500);
  }
  expect(ourProcesses().length).toBeGreaterThanOrEqual(15);

  // tmux built with libutempter (Debian's) loses the SIGCHLD of a pane that exits while utempter's
  // helper runs (tmux/tmux#311): the pane then reads dead with no exit status, its process stays an
  // unreaped zombie, and before tmux 3.5 nothing reaps it. A SIGCHLD sent to the server makes it
  // reap the pane and record the status.
  const server = Number(tmux("display-message", "-p", "#{pid}").stdout.toString().trim());
  tmux("send-keys", "-t", "shop", "C-c");
  let status = "";
  for (const stopBy = Date.now() + 120_000; Date.now() < stopBy; await Bun.sleep(250)) {
    status = tmux("display-message", "-p", "-t", "shop", "#{pane_dead} #{pane_dead_status}").stdout.toString().trim();
    if (status.startsWith("1 ")) break;
    if (status === "1" && server > 0) process.kill(server, "SIGCHLD");
  }
  const output = readFileSync(log, "utf8");
  expect(status, output.slice(-3000)).toBe("1 0");
  expect(output).toContain("[start:all] stopping: producers flush, consumers drain and commit");
  expect(output).toContain("[start:all] all services stopped");
  expect(output).not.toContain("[start:all] second SIG");
  expect(output).not.toContain("still in Kafka");
  expect(output).not.toMatch(/exited with code [1-9]/);
  expect(ourProcesses()).toEqual([]);

  // nothing left behind: every group at the end of its topic, every produced order stored once
  const lag = await consumerLag(t.admin, t.names);
  expect(lag.filter((l) => l.lag !== 0)).toEqual([]);
  const stopped = /stopped: (\d+) orders generated, (\d+) acknowledged/.exec(output);
  expect(stopped).not.toBeNull();
  expect(stopped![2]).toBe(stopped![1]);
  const kafkaIds = [...new Set(createdIds(await readTopic(t.client, t.admin, t.names.topic("orders"))))].sort();
  const storedIds = (await db.sql`select id from orders order by id`).map((r) => r.id as string);
  expect(kafkaIds.length).toBe(Number(stopped![1]));
  expect(storedIds).toEqual(kafkaIds);
}, 300_000);

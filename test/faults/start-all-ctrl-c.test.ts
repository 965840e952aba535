import { afterAll, expect, test } from "bun:test";
import { readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { consumerLag } from "../../src/kafka/lag.ts";
import { uniqueSuffix } from "../../support/db.ts";
import { SchemaReader } from "../../src/schemas/reader.ts";
import { RegistryClient } from "../../src/schemas/registry.ts";
import { processesOfPrefix } from "../support/services.ts";
import { openStage, type Stage } from "../support/stage.ts";
import { config } from "../support/kafka.ts";
import { readTopic } from "../../src/kafka/read-topic.ts";
import { createdIds } from "../../support/events.ts";

// `bun run start:all`, typed as the README shows it, in a real terminal (a tmux pane on a private
// tmux server), stopped the way a person stops it: one Ctrl-C. The terminal signals its whole
// foreground process group (`bun run`, its shell and start:all; each service has a group of its
// own) and `bun run` forwards its SIGINT too, so start:all hears it twice and must take it for one:
// the staged stop runs, producers flush, consumers drain the lag to 0 and commit, everything exits
// 0, and every order in Kafka is in PostgreSQL.

const ROOT = join(import.meta.dir, "../..");
/** Each run its own tmux server and log: a server just told to quit may still hold its socket. */
const sockets: string[] = [];
const logOf = (socket: string) => join(tmpdir(), `${socket}.log`);
const stages: Stage[] = [];

afterAll(async () => {
  for (const socket of sockets) {
    Bun.spawnSync(["tmux", "-L", socket, "kill-server"], { stdout: "pipe", stderr: "pipe" });
    rmSync(logOf(socket), { force: true });
  }
  await Promise.all(stages.map((s) => s.close()));
}, 120_000);

test("Ctrl-C in a terminal stops start:all --chaos light in stages with the lag drained to 0", async () => {
  await ctrlC("ctrlc", ["--rate", "400", "--chaos", "light"]);
}, 300_000);

test("the same with --format protobuf --chaos heavy: every order, written through the schema registry, stored once, the truncated frames dead-lettered", async () => {
  await ctrlC("ctrlc_proto", ["--rate", "400", "--format", "protobuf", "--chaos", "heavy"]);
}, 300_000);

test("the same with --clicks: every click of every session stored once beside its order", async () => {
  // a slow rate: each order brings ~40 page events, and the drain at the stop has 20 s
  await ctrlC("ctrlc_clicks", ["--rate", "30", "--clicks"], 400);
}, 300_000);

async function ctrlC(label: string, args: string[], ordersFirst = 2000): Promise<void> {
  const stage = await openStage({ label, empty: true });
  stages.push(stage);
  const { db, topics: t } = stage;
  /** Pids of processes started for this test's pipeline. */
  const ourProcesses = () => processesOfPrefix(t.prefix);
  const socket = `shopstream-test-${label}-${uniqueSuffix()}`;
  sockets.push(socket);
  const log = logOf(socket);
  const tmux = (...args: string[]) => Bun.spawnSync(["tmux", "-L", socket, ...args], { stdout: "pipe", stderr: "pipe" });
  const env = { ...stage.env, SEED_USERS: "2000", SEED_PRODUCTS: "2000", CACHE_REFRESH_S: "5" };
  const assignments = Object.entries(env)
    .map(([k, v]) => `${k}=${v}`)
    .join(" ");
  const command = `cd ${ROOT} && exec env ${assignments} ${process.execPath} run start:all ${args.join(" ")}`;
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
    if ((row?.n ?? 0) > ordersFirst) break;
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
  // under --chaos, the poison the answer key lists is no order (and is dead-lettered); the rest is
  let published = await readTopic(t.client, t.admin, t.names.topic("orders"));
  if (args.includes("--chaos")) {
    const key = (await readTopic(t.client, t.admin, t.names.chaosKey())).map((m) => JSON.parse(m.value));
    expect(key.length).toBeGreaterThan(0);
    const poison = new Set(
      key.filter((k) => k.kind === "poison" && k.topic === t.names.topic("orders")).map((k) => `${k.partition}/${k.offset}`),
    );
    const dead = (await readTopic(t.client, t.admin, t.names.dlq("orders"))).map((m) => JSON.parse(m.value).source);
    expect(new Set(dead.map((s) => `${s.partition}/${s.offset}`))).toEqual(poison);
    published = published.filter((m) => !poison.has(`${m.partition}/${m.offset}`));
  }
  const reader = new SchemaReader(new RegistryClient(config.schemaRegistryUrl));
  await reader.prepare(published.map((m) => m.bytes));
  const kafkaIds = [...new Set(createdIds(published, reader))].sort();
  const storedIds = (await db.sql`select id from orders order by id`).map((r) => r.id as string);
  expect(kafkaIds.length).toBe(Number(stopped![1]));
  expect(storedIds).toEqual(kafkaIds);
  const format = args.includes("--format") ? args[args.indexOf("--format") + 1] : "json";
  expect(published.every((m) => (m.bytes?.[0] === 0) === (format !== "json"))).toBe(true);
  if (args.includes("--clicks")) {
    // the clicks as the producer counted them, each stored once; every order has its session, and
    // names it (start:all tells every service the version --clicks starts at)
    const clicked = /stopped: .*; (\d+) clicks in (\d+) sessions/.exec(output);
    expect(clicked, output.slice(-3000)).not.toBeNull();
    const clickIds = (await readTopic(t.client, t.admin, t.names.topic("clicks"))).map(
      (m) => (JSON.parse(m.value) as { data: { id: string } }).data.id,
    );
    expect(new Set(clickIds).size).toBe(Number(clicked![1]));
    const [row] = await db.sql`
      select (select count(*) from click_events)::int as clicks, (select count(*) from sessions)::int as sessions,
             (select count(*) from orders o where not exists (select 1 from sessions s where s.order_id = o.id))::int as orders_without_session,
             (select count(*) from orders o where o.session_id is distinct from (select s.id from sessions s where s.order_id = o.id))::int as wrong_session`;
    expect(row).toEqual({ clicks: Number(clicked![1]), sessions: Number(clicked![2]), orders_without_session: 0, wrong_session: 0 });
  }
}

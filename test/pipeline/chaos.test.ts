import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import { formatScore, type KindScore } from "../../src/analytics/chaos-score.ts";
import { readTopic } from "../../src/kafka/read-topic.ts";
import type { EntityTopic } from "../../src/kafka/topics.ts";
import { waitForSettled } from "../support/kafka.ts";
import type { RunningService } from "../support/services.ts";
import { openStage, type Stage } from "../support/stage.ts";
import { until } from "../support/until.ts";

// A --chaos heavy run through Kafka into PostgreSQL: the producer (orders, products, clicks), the
// user-seeder (users) and the lifecycle service (steps sent twice, or ahead of the step they
// follow) inject every kind of fault, each written to the answer key; shopstream's
// own consumers absorb the duplicates, dead-letter the poison, store late records with their true
// times and lose no good record, and `bun run chaos-score` says so. A deliberately naive sink (plain
// inserts, no dedup, no dead letters) fed from the same topic scores the duplicates and the poison
// as passed through.

const ORDERS = 3000;
/** The lifecycle's clock (its consumers' too): each order's whole course in seconds. */
const SPEED = "100000";
const ROOT = join(import.meta.dir, "../..");
let stage: Stage;
let seeder: RunningService;
let producer: RunningService;
let lifecycle: RunningService;
let lander: RunningService;

beforeAll(async () => {
  stage = await openStage({ label: "chaos", users: 1000, products: 500 });
  for (const topic of ["users", "products", "orders", "clicks"] as const)
    stage.start(`${topic}-consumer`, "consumer.ts", [topic], { INSTANCE: "1", SPEED });
  lifecycle = stage.start("lifecycle", "lifecycle.ts", ["--chaos", "heavy"], { SPEED });
  lander = stage.start("chaos-lander", "chaos-lander.ts");
  // with the clickstream: the clicks topic takes its own faults (a session's clicks out of order, nulls, drift, poison)
  producer = stage.start("producer", "producer.ts", ["--rate", "300", "--count", String(ORDERS), "--chaos", "heavy", "--clicks"]);
  // 10 users every 0.2 s: enough sign-ups for every kind the users topic takes
  seeder = stage.start("user-seeder", "user-seeder.ts", ["--speed", "50", "--chaos", "heavy"]);
  const code = await Promise.race([producer.proc.exited, Bun.sleep(180_000).then(() => "still running")]);
  if (code !== 0) throw new Error(`producer: ${code}\n${producer.output().slice(-3000)}`);
  expect(await seeder.stop()).toBe(0);
  // every order through its whole course: the early steps were held until the steps they follow
  await until(
    "every order's course run",
    async () => {
      const [left] = await stage.db.sql`select count(*)::int as n from orders where next_status is not null`;
      return left!.n === 0;
    },
    { timeoutMs: 180_000, services: [lifecycle] },
  );
  expect(await lifecycle.stop()).toBe(0);
  await waitForSettled(stage.topics, stage.db.sql, undefined, 120_000);
}, 400_000);

afterAll(async () => {
  await stage?.close();
}, 120_000);

async function chaosScore(args: string[]): Promise<{ injections: number; landed: number; scores: KindScore[] }> {
  const proc = Bun.spawn([process.execPath, "run", "chaos-score", "--json", ...args], {
    cwd: ROOT,
    env: { ...process.env, ...stage.env },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  if (code !== 0) throw new Error(`chaos-score exited ${code}:\n${out}${err}`);
  return JSON.parse(out.trim().split("\n").at(-1) as string);
}

const kinds = (scores: KindScore[]) => Object.fromEntries(scores.filter((s) => s.injected > 0).map((s) => [s.kind, s]));

test("every order generated is stored once, whatever was injected around it", async () => {
  const ids = new Set<string>();
  for (const m of await readTopic(stage.topics.client, stage.topics.admin, stage.topics.names.topic("orders"))) {
    try {
      const event = JSON.parse(m.value) as { event_type: string; data: { id: string } };
      if (event.event_type === "order_created") ids.add(event.data.id);
    } catch {} // the poison: unreadable by design
  }
  expect(ids.size).toBe(ORDERS);
  const stored = (await stage.db.sql`select id from orders`).map((r) => r.id as string);
  expect(stored.sort()).toEqual([...ids].sort());
  expect(producer.output()).toContain('chaos "heavy"');
  // and every click, once
  const clicks = new Set<string>();
  for (const m of await readTopic(stage.topics.client, stage.topics.admin, stage.topics.names.topic("clicks"))) {
    try {
      clicks.add((JSON.parse(m.value) as { data: { id: string } }).data.id);
    } catch {} // the poison
  }
  const clicked = /stopped: .*; (\d+) clicks in \d+ sessions/.exec(producer.output());
  expect(clicks.size).toBe(Number(clicked?.[1]));
  const storedClicks = (await stage.db.sql`select id from click_events`).map((r) => r.id as string);
  expect(storedClicks.sort()).toEqual([...clicks].sort());
  // each session folded from its events exactly once, whatever came twice, late or out of order
  const [fold] = await stage.db.sql`
    with e as (select session_id, count(*)::int as n, min(at) as first, max(at) as last from click_events group by session_id)
    select (select count(*) from sessions)::int as sessions, (select count(*) from e)::int as with_events,
           (select count(*) from sessions s join e on e.session_id = s.id
             where s.events <> e.n or s.started_at <> e.first or s.ended_at <> e.last)::int as unfolded`;
  expect(fold!.unfolded).toBe(0);
  expect(fold!.sessions).toBe(fold!.with_events);
});

test("shopstream's own sink scores every kind: duplicates absorbed, poison dead-lettered, late records at their true times, nothing lost", async () => {
  // the lander has put the whole key in chaos_injections as it was written
  const { client, admin, names } = stage.topics;
  const lines = new Set(
    (await readTopic(client, admin, names.chaosKey())).map((m) => {
      const l = JSON.parse(m.value);
      return `${l.topic}/${l.partition}/${l.offset}`;
    }),
  );
  await until(
    "the answer key landed",
    async () => {
      const [n] = await stage.db.sql`select count(*)::int as n from chaos_injections`;
      return n!.n === lines.size;
    },
    { services: [lander] },
  );
  expect(await lander.stop()).toBe(0);
  const result = await chaosScore([]);
  expect(result.injections).toBe(lines.size);
  expect(result.landed).toBe(0); // nothing new for chaos-score to land
  console.log(`[chaos] heavy, shopstream's own sink:\n${formatScore(result.scores)}`);
  const by = kinds(result.scores);
  expect(Object.keys(by).sort()).toEqual(["drift", "duplicate", "early", "late", "nulls", "out_of_order", "poison"]);
  for (const s of Object.values(by)) {
    expect(s.handled).toBe(s.injected);
    expect(s.lost).toBe(0);
  }
  // what the writers said they injected at their stop is what the key holds
  const said = [producer, seeder, lifecycle].flatMap((s) => {
    const line = /chaos "heavy" injected: (.*) \(each in /.exec(s.output())?.[1] ?? "";
    return [...line.matchAll(/(\d+) [a-z_]+/g)].map((m) => Number(m[1]));
  });
  expect(said.reduce((a, b) => a + b, 0)).toBe(result.injections);
  // the key was landed in PostgreSQL too, once however often it is read
  const [landed] = await stage.db.sql`select count(*)::int as n from chaos_injections`;
  expect(landed!.n).toBe(result.injections);
  expect((await chaosScore([])).injections).toBe(result.injections);
  const [again] = await stage.db.sql`select count(*)::int as n from chaos_injections`;
  expect(again!.n).toBe(landed!.n);
  // per topic, the kinds it takes
  const ordersOnly = kinds((await chaosScore(["--topic", "orders"])).scores);
  expect(Object.keys(ordersOnly).sort()).toEqual(["drift", "duplicate", "early", "late", "out_of_order", "poison"]);
  const clicksOnly = kinds((await chaosScore(["--topic", "clicks"])).scores);
  expect(Object.keys(clicksOnly).sort()).toEqual(["drift", "duplicate", "late", "nulls", "out_of_order", "poison"]);
  for (const s of Object.values(clicksOnly)) expect([s.kind, s.handled, s.lost]).toEqual([s.kind, s.injected, 0]);
  // an early step is in order_events once, at its own time, whatever came before it
  const [early] = await stage.db.sql`
    select count(*)::int as n, count(e.order_id)::int as stored
    from chaos_injections c
    left join order_events e on e.order_id || ':' || e.to_status = c.event_id and e.at = (c.detail->>'true_at')::timestamptz
    where c.kind = 'early'`;
  expect(early!.n).toBeGreaterThan(0);
  expect(early!.stored).toBe(early!.n);
  // --table needs --topic: one table holds one topic
  await expect(chaosScore(["--table", "orders"])).rejects.toThrow("--topic");
});

test("a naive sink (a plain insert per record, no dedup, no dead letters) has the duplicates and the poison scored as passed through", async () => {
  const sql = stage.db.sql;
  await sql`create table naive_orders (id text, created_at timestamptz)`;
  const rows: { id: string; created_at: string }[] = [];
  for (const m of await readTopic(stage.topics.client, stage.topics.admin, stage.topics.names.topic("orders"))) {
    try {
      const { event_type, data } = JSON.parse(m.value) as { event_type: string; data: { id: string; created_at: string } };
      if (event_type === "order_created") rows.push({ id: data.id, created_at: data.created_at });
    } catch {} // what it cannot read it drops, and tells nobody
  }
  await sql`insert into naive_orders ${sql(rows)}`;
  const by = kinds((await chaosScore(["--topic", "orders", "--table", "naive_orders", "--dlq-topic", "none"])).scores);
  expect(by.duplicate!.passedThrough).toBe(by.duplicate!.injected);
  expect(by.poison!.passedThrough).toBe(by.poison!.injected);
  expect(by.late!.handled).toBe(by.late!.injected); // it did keep the record's own time
  expect(by.drift!.lost + by.out_of_order!.lost).toBe(0);
});

test("the answer key names what was injected where: each line's offset holds the fault it describes", async () => {
  const { client, admin, names } = stage.topics;
  const key = (await readTopic(client, admin, names.chaosKey())).map((m) => JSON.parse(m.value));
  const at = new Map<string, string>();
  for (const e of ["orders", "users", "products", "clicks"] as EntityTopic[]) {
    const topic = names.topic(e);
    for (const m of await readTopic(client, admin, topic)) at.set(`${topic}/${m.partition}/${m.offset}`, m.value);
  }
  expect(key.length).toBeGreaterThan(0);
  for (const line of key) {
    const value = at.get(`${line.topic}/${line.partition}/${line.offset}`) as string;
    expect(value).toBeDefined();
    if (line.kind === "poison") expect(() => JSON.parse(value)).toThrow();
    else {
      const data = JSON.parse(value).data;
      expect(data.id ?? `${data.order_id}:${data.to}`).toBe(line.event_id);
    }
    if (line.kind === "early") expect(JSON.parse(value).data.at).toBe(line.detail.true_at);
    if (line.kind === "drift") expect(JSON.parse(value).data).toHaveProperty("chaos_drift_note");
    const isClick = line.topic === names.topic("clicks");
    if (line.kind === "late") expect(JSON.parse(value).data[isClick ? "at" : "created_at"]).toBe(line.detail.true_at);
    if (line.kind === "nulls") for (const field of line.detail.fields) expect(JSON.parse(value).data[field]).toBeNull();
  }
});

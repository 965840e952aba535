import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { insertOrders, insertProducts, insertUsers } from "../../src/db/writers.ts";
import type { Click } from "../../src/domain/clickstream.ts";
import type { Order, Product, StatusChange, User } from "../../src/domain/types.ts";
import { type Sink, SinkError } from "../../src/pipeline/sink.ts";
import type { DeadLetter } from "../../src/kafka/dead-letter.ts";
import type { EventKinds } from "../../src/kafka/contract.ts";
import { encode, subjectOf } from "../../src/kafka/envelope.ts";
import { partitionFor } from "../../src/kafka/partitioner.ts";
import type { BatchingProducer } from "../../src/kafka/batching-producer.ts";
import { ENTITY_TOPICS, type EntityTopic } from "../../src/kafka/topics.ts";
import { parkingLot } from "../../src/db/parking.ts";
import { postgresSink } from "../../src/pipeline/postgres-sink.ts";
import { createTestDatabase, type TestDatabase } from "../../support/db.ts";
import { order, product, user } from "../support/fixtures.ts";
import { createTestTopics, waitForSettled, type TestTopics } from "../support/kafka.ts";
import { readTopic } from "../../src/kafka/read-topic.ts";

// Bad input of every kind the consumers can meet, on all three topics, each interleaved with good
// records under the same key (same partition, same fetched batch): every bad record lands on its
// topic's dead-letter topic with a reason (and PostgreSQL's SQLSTATE when the database refused it),
// every good record around it is stored, and the consumer groups keep going until their lag is 0.

const RETRY_FOR_MS = 3000;
const PARTITIONS = 3; // createTestTopics → ensureTopics' default
/** One key per topic: all of a topic's records share one partition, and so one fetched batch. */
const KEYS: Record<EntityTopic, string> = { users: "K_users", products: "K_products", orders: "K_orders", clicks: "K_clicks" };

let db: TestDatabase;
let t: TestTopics;
let producer: BatchingProducer;

// ---- what was sent --------------------------------------------------------------------------------

interface Sent {
  entity: EntityTopic;
  label: string;
  key: string;
  /** The raw value published (null: a Kafka message without a value; a Buffer: bytes that are not UTF-8). */
  value: string | Buffer | null;
  /** Present for bad records: what the dead letter must say. */
  bad?: {
    reason: RegExp;
    /** SQLSTATE the dead letter must carry (absent: it must carry none). */
    sqlstate?: RegExp;
    /** "decode": refused before any write (attempts 0); "write": refused by or after a write (attempts ≥ 1). */
    stage: "decode" | "write";
  };
}

const sent: Sent[] = [];
const goodUsers: User[] = [];
const goodProducts: Product[] = [];
const goodOrders: Order[] = [];
/** Ids of bad records that must never reach PostgreSQL (those reusing a good id are checked by content). */
const badIds: Record<EntityTopic, string[]> = { users: [], products: [], orders: [], clicks: [] };
const goodClicks: Click[] = [];

function good<E extends EntityTopic>(entity: E, item: EventKinds[E]): void {
  if (entity === "users") goodUsers.push(item as User);
  else if (entity === "products") goodProducts.push(item as Product);
  else if (entity === "clicks") goodClicks.push(item as Click);
  else goodOrders.push(item as Order);
  sent.push({ entity, label: `good ${subjectOf(item)}`, key: KEYS[entity], value: encode(entity, item) });
}

function bad(entity: EntityTopic, label: string, value: string | Buffer | null, expect: NonNullable<Sent["bad"]>, id?: string): void {
  if (id) badIds[entity].push(id);
  sent.push({ entity, label, key: KEYS[entity], value, bad: expect });
}

/** A valid envelope of `item`, changed by `change` (encode itself refuses bad data, on purpose). */
function mutated<E extends EntityTopic>(
  entity: E,
  item: EventKinds[E],
  change: (envelope: Record<string, unknown>, data: Record<string, unknown>) => void,
): string {
  const envelope = JSON.parse(encode(entity, item)) as Record<string, unknown>;
  change(envelope, envelope.data as Record<string, unknown>);
  return JSON.stringify(envelope);
}

const decodeFail = (reason: RegExp) => ({ reason, stage: "decode" as const });

/** A valid envelope of `item` whose text `mark` is replaced by `bytes` (bytes no UTF-8 decoder accepts). */
function withBytes<E extends EntityTopic>(entity: E, item: EventKinds[E], mark: string, bytes: number[]): Buffer {
  const [before, after] = encode(entity, item).split(mark) as [string, string];
  return Buffer.concat([Buffer.from(before), Buffer.from(bytes), Buffer.from(after)]);
}

/** A value as readTopic gives it back: UTF-8 decoded (leniently), "" for none. */
const asRead = (v: string | Buffer | null) => (v === null ? "" : v.toString());

// ---- consumers, with a spy on the sink ------------------------------------------------------------

interface SinkCall {
  entity: EntityTopic;
  ids: string[];
  sqlstate?: string;
}
const sinkCalls: SinkCall[] = [];
const batchesSeen: { entity: EntityTopic; size: number; written: number; dlq: number; parked: number }[] = [];

function spiedSink<E extends EntityTopic>(entity: E): Sink<E> {
  const inner = postgresSink(db.sql, entity);
  return async (items, source) => {
    const ids = items.map(subjectOf);
    try {
      const res = await inner(items, source);
      sinkCalls.push({ entity, ids });
      return res;
    } catch (err) {
      sinkCalls.push({ entity, ids, sqlstate: err instanceof SinkError ? err.sqlstate : undefined });
      throw err;
    }
  };
}

const startConsumer = (entity: EntityTopic) =>
  t.consumer({
    entity,
    dlq: producer,
    sink: spiedSink(entity),
    retryForMs: RETRY_FOR_MS,
    // as the consumer service: orders wait for their user and product in the parking lot
    parking: entity === "orders" ? parkingLot(db.sql) : undefined,
    hooks: { onBatch: ({ entity, size, written, dlq, parked }) => void batchesSeen.push({ entity, size, written, dlq, parked }) },
  });

const publish = (records: Sent[]) =>
  Promise.all(records.map((s) => producer.send(t.names.topic(s.entity), { key: s.key, value: s.value })));

// ---- checks ------------------------------------------------------------------------------------------

const where = (m: { partition: number; offset: string }) => `${m.partition}:${m.offset}`;

/**
 * Reads the source topic and the dead-letter topic of `entity` and checks that the dead letters name
 * exactly the offsets of the bad records sent (at least once: compared as distinct partition:offset),
 * each with the expected reason, SQLSTATE, attempts, key and raw value.
 */
async function checkDeadLetters(entity: EntityTopic): Promise<{ dead: DeadLetter[]; badAt: Map<string, Sent> }> {
  const mine = sent.filter((s) => s.entity === entity);
  const source = await readTopic(t.client, t.admin, t.names.topic(entity));
  // readTopic gives a missing value as "": each topic carries at most one null or empty value
  const byValue = new Map(mine.map((s) => [asRead(s.value), s]));
  expect(byValue.size).toBe(mine.length); // every value sent is distinct
  const badAt = new Map<string, Sent>();
  const goodAt = new Set<string>();
  for (const m of source) {
    const s = byValue.get(m.value);
    if (!s) throw new Error(`${entity}: unexpected message at ${where(m)}: ${m.value.slice(0, 80)}`);
    expect(m.key).toBe(s.key);
    expect(m.partition).toBe(partitionFor(s.key, PARTITIONS, () => 0)); // keyed: deterministic partition
    if (s.bad) badAt.set(where(m), s);
    else goodAt.add(where(m));
  }
  // every record sent is in the topic (a producer resend may add copies, never lose one)
  expect(new Set(source.map((m) => byValue.get(m.value)))).toEqual(new Set(mine));

  const dead = (await readTopic(t.client, t.admin, t.names.dlq(entity))).map((m) => JSON.parse(m.value) as DeadLetter);
  expect(new Set(dead.map((d) => where(d.source)))).toEqual(new Set(badAt.keys()));
  for (const d of dead) {
    const s = badAt.get(where(d.source));
    if (!s?.bad) throw new Error(`${entity}: dead letter for an offset that holds no bad record: ${JSON.stringify(d)}`);
    const ctx = `${entity} / ${s.label}: ${d.reason}`;
    expect(d.source.topic, ctx).toBe(t.names.topic(entity));
    expect(typeof d.reason, ctx).toBe("string");
    expect(d.reason.length, ctx).toBeGreaterThan(0);
    expect(d.reason, ctx).toMatch(s.bad.reason);
    expect(typeof d.attempts, ctx).toBe("number");
    if (process.env.DEBUG)
      console.log(`${entity} ${where(d.source)} [${s.label}] attempts=${d.attempts} sqlstate=${d.sqlstate ?? "-"} ${d.reason}`);
    if (s.bad.stage === "decode") expect(d.attempts, ctx).toBe(0);
    else expect(d.attempts, ctx).toBeGreaterThanOrEqual(1);
    if (s.bad.sqlstate) expect(d.sqlstate ?? "", ctx).toMatch(s.bad.sqlstate);
    else expect(d.sqlstate, ctx).toBeUndefined();
    expect(d.key, ctx).toBe(s.key);
    if (Buffer.isBuffer(s.value)) {
      // bytes that are not UTF-8: in base64, byte for byte
      expect(d.value, ctx).toBeNull();
      expect(d.value_base64, ctx).toBe(s.value.toString("base64"));
    } else expect(d.value, ctx).toBe(s.value); // the raw value, byte for byte (null stays null)
    expect(Number.isNaN(Date.parse(d.failed_at)), ctx).toBe(false);
  }
  expect(goodAt.size).toBeGreaterThan(0);
  return { dead, badAt };
}

/** Every good record is stored with its content, nothing else is, and no bad id reached a table. */
async function checkStored(): Promise<void> {
  const users = await db.sql<User[]>`
    select id, name, gender, age, birth_year, address, region, email, grade, status, marketing_opt_in, last_login_at, created_at
      from users order by id`;
  expect(users).toEqual(sortById([storedUser, ...goodUsers]).map(({ last_ordered_at: _, ...u }) => u) as never);

  const products = await db.sql<Product[]>`
    select id, name, category, brand, original_price, price, discount_rate, description, stock, rating::float8 as rating,
           review_count, is_best, created_at
      from products order by id`;
  expect(products).toEqual(sortById([storedProduct, ...goodProducts]).map(({ order_count: _, ...p }) => p) as never);

  const orders = await db.sql<Order[]>`
    select id, user_id, product_id, quantity, unit_price, shipping_cost, discount_amount, total_amount::float8 as total_amount,
           payment_method, status, created_at, category, user_region, user_gender, user_age_band
      from orders order by id`;
  expect(orders).toEqual(sortById([storedOrder, storedCancelled, ...goodOrders]) as never);
  // no status change applied: the cancelled order kept its status, nothing recorded
  expect((await db.sql`select count(*)::int as n from order_events`)[0]!.n).toBe(0);

  const clicks = await db.sql<Click[]>`
    select id, session_id, seq, type, at, user_id, device, channel, region, page, category, product_id, query, order_id
      from click_events order by id`;
  expect(clicks).toEqual(sortById(goodClicks) as never);
  // each session folded from its good events alone: how many, from when to when, how far down the funnel
  const sessions = await db.sql`select id, user_id, device, category, events, reached, started_at, ended_at from sessions order by id`;
  expect([...sessions]).toEqual([
    {
      id: "S_s1",
      user_id: "U_g1",
      device: "app",
      category: "FRESH",
      events: 4,
      reached: 3,
      started_at: click(1, 0).at,
      ended_at: click(1, 3).at,
    },
    {
      id: "S_s2",
      user_id: null,
      device: "mobile_web",
      category: "FRESH",
      events: 2,
      reached: 0,
      started_at: click(2, 0).at,
      ended_at: click(2, 1).at,
    },
  ]);

  const TABLES: Record<EntityTopic, string> = { users: "users", products: "products", orders: "orders", clicks: "click_events" };
  for (const entity of ENTITY_TOPICS) {
    const rows = await db.sql.unsafe(`select id from ${TABLES[entity]} where id = any($1::text[])`, [badIds[entity]]);
    expect(
      rows.map((r) => r.id),
      `${entity} holding bad records`,
    ).toEqual([]);
  }

  // the counters the order writes maintain agree with the orders stored
  const drift = await db.sql`
    select p.id, p.order_count, (select count(*)::int from orders o where o.product_id = p.id) as orders
      from products p where p.order_count <> (select count(*) from orders o where o.product_id = p.id)`;
  expect([...drift]).toEqual([]);
  const lastOrdered = await db.sql`
    select u.id, u.last_ordered_at, (select max(created_at) from orders o where o.user_id = u.id) as last
      from users u where u.last_ordered_at is distinct from (select max(created_at) from orders o where o.user_id = u.id)`;
  expect([...lastOrdered]).toEqual([]);
  const expectedCounts = new Map<string, number>();
  for (const o of [storedOrder, storedCancelled, ...goodOrders])
    expectedCounts.set(o.product_id, (expectedCounts.get(o.product_id) ?? 0) + 1);
  const counts = await db.sql<{ id: string; order_count: number }[]>`select id, order_count from products order by id`;
  expect(Object.fromEntries(counts.map((p) => [p.id, p.order_count]))).toEqual(
    Object.fromEntries([storedProduct, ...goodProducts].map((p) => [p.id, expectedCounts.get(p.id) ?? 0])),
  );
}

const sortById = <T extends { id: string }>(rows: T[]): T[] => [...rows].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));

// ---- the records ------------------------------------------------------------------------------------

// Rows already in PostgreSQL before the consumers start, so that a record can reuse their ids.
const storedUser = user("U_stored", { name: "김저장" });
const storedProduct = product("P_stored", { price: 15_000, original_price: 20_000, discount_rate: 25 });
const storedOrder = order("O_stored", "U_stored", "P_stored", { created_at: new Date("2025-04-01T00:00:00Z") });
const storedCancelled = order("O_stored_cancelled", "U_stored", "P_stored", {
  created_at: new Date("2025-04-01T00:00:00Z"),
  status: "CANCELLED",
});
/** A lifecycle step of an order, valid by the contract (what the lifecycle service would publish). */
const step = (order_id: string, from: StatusChange["from"], to: StatusChange["to"]): StatusChange => ({
  order_id,
  from,
  to,
  at: new Date("2025-04-02T00:00:00Z"),
  reason: "test",
});

const day = (d: number) => new Date(Date.UTC(2025, 5, d, 3, 0, 0));

function planUsers(): void {
  const u = (n: number, over: Partial<User> = {}) => user(`U_g${n}`, { age: 20 + n, birth_year: 2005 - n, ...over });
  const b = (label: string) => user(`U_bad_${label}`);
  good("users", u(1));
  bad("users", "not JSON", "{not json", decodeFail(/not JSON/));
  good("users", u(2, { gender: "M", email: "u_g2@daum.net" }));
  bad("users", "JSON array instead of an object", "[1,2]", decodeFail(/^\(root\): .*expected object, received array/));
  bad("users", "null message value", null, decodeFail(/empty message value/));
  good("users", u(3, { region: "경기", grade: "GOLD" }));
  bad(
    "users",
    "wrong envelope version",
    mutated("users", b("v2"), (e) => void (e.v = 2)),
    decodeFail(/^v: /),
    "U_bad_v2",
  );
  bad(
    "users",
    "unknown event_type",
    mutated("users", b("evt"), (e) => void (e.event_type = "user_deleted")),
    decodeFail(/^event_type: /),
    "U_bad_evt",
  );
  good("users", u(4, { marketing_opt_in: false, last_login_at: new Date("2025-05-05T05:05:05Z") }));
  bad(
    "users",
    "missing field (email)",
    mutated("users", b("noemail"), (_, d) => void delete d.email),
    decodeFail(/^data\.email: /),
    "U_bad_noemail",
  );
  bad(
    "users",
    "wrongly typed field (age as string)",
    mutated("users", b("agestr"), (_, d) => void (d.age = "34")),
    decodeFail(/^data\.age: /),
    "U_bad_agestr",
  );
  good("users", u(5, { status: "DORMANT" }));
  bad(
    "users",
    "bad enum (gender X)",
    mutated("users", b("genderx"), (_, d) => void (d.gender = "X")),
    decodeFail(/^data\.gender: /),
    "U_bad_genderx",
  );
  bad(
    "users",
    "id of another kind (a product's P_ id on a user)",
    mutated("users", b("kind"), (_, d) => void (d.id = "P_on_users")),
    decodeFail(/^data\.id: expected an id starting with U_/),
    "P_on_users",
  );
  bad(
    "users",
    "e-mail without @",
    mutated("users", b("mail"), (_, d) => void (d.email = "kim.daum.net")),
    decodeFail(/^data\.email: expected an e-mail address/),
    "U_bad_mail",
  );
  bad(
    "users",
    "JSON nested 100,000 levels deep",
    `${"[".repeat(100_000)}${"]".repeat(100_000)}`,
    decodeFail(/^\(root\): .*expected object/),
  );
  bad(
    "users",
    "another topic's event (order_created on users)",
    encode("orders", order("O_on_users", "U_g1", "P_g1")),
    decodeFail(/^event_type: .*user_created/),
    "O_on_users",
  );
  bad(
    "users",
    "bad date (2025-13-45)",
    mutated("users", b("date"), (_, d) => void (d.created_at = "2025-13-45T00:00:00Z")),
    decodeFail(/^data\.created_at: /),
    "U_bad_date",
  );
  good("users", u(6, { name: 'O\'Brien "квадрат" 🚀' }));
  bad(
    "users",
    "NUL character in name",
    mutated("users", b("nul"), (_, d) => void (d.name = "김\u0000철수")),
    { reason: /0x00|invalid byte sequence/, sqlstate: /^22/, stage: "write" },
    "U_bad_nul",
  );
  bad(
    "users",
    "oversized name (5,000 characters)",
    mutated("users", b("long"), (_, d) => void (d.name = "가".repeat(5000))),
    decodeFail(/^data\.name: /),
    "U_bad_long",
  );
  bad(
    "users",
    "birth_year 40000 (smallint column)",
    mutated("users", b("year"), (_, d) => void (d.birth_year = 40_000)),
    { reason: /value "40000" is out of range for type smallint/, sqlstate: /^22003$/, stage: "write" },
    "U_bad_year",
  );
  good("users", u(7));
  bad(
    "users",
    "id of a stored row with other content",
    mutated("users", storedUser, (_, d) => void (d.name = "박다른")),
    { reason: /^duplicate id with different content \(name differ from the stored row\)/, stage: "write" },
  );
  bad(
    "users",
    "same id twice in one batch, other content",
    mutated("users", u(2, { gender: "M", email: "u_g2@daum.net" }), (_, d) => void (d.email = "other@daum.net")),
    { reason: /^duplicate id with different content \(email differ from the stored row\)/, stage: "write" },
  );
  good("users", u(8));
}

function planProducts(): void {
  const p = (n: number, over: Partial<Product> = {}) =>
    product(`P_g${n}`, { price: 10_000 + n * 1000, original_price: 12_000 + n * 1000, ...over });
  const b = (label: string) => product(`P_bad_${label}`);
  good("products", p(1));
  bad("products", "JSON string instead of an object", '"x"', decodeFail(/^\(root\): .*expected object, received string/));
  bad(
    "products",
    "empty id",
    mutated("products", b("noid"), (_, d) => void (d.id = "")),
    decodeFail(/^data\.id: /),
  );
  good("products", p(2, { category: "MEAT", brand: "하림" }));
  bad("products", "empty string value", "", decodeFail(/not JSON/));
  bad(
    "products",
    "invalid UTF-8 inside a JSON string (a lone surrogate's bytes)",
    withBytes("products", product("P_bad_utf8", { name: "한우 @@ 세트" }), "@@", [0xed, 0xa0, 0x80]),
    decodeFail(/^value is not valid UTF-8$/),
    "P_bad_utf8",
  );
  bad(
    "products",
    "invalid UTF-8 inside a JSON string (a stray 0xFF)",
    withBytes("products", product("P_bad_ff", { brand: "브랜드@@" }), "@@", [0xff]),
    decodeFail(/^value is not valid UTF-8$/),
    "P_bad_ff",
  );
  bad(
    "products",
    "bad enum (unknown category)",
    mutated("products", b("cat"), (_, d) => void (d.category = "NOPE")),
    decodeFail(/^data\.category: /),
    "P_bad_cat",
  );
  good("products", p(3, { is_best: true, rating: 3.5 }));
  bad(
    "products",
    "price 3,000,000,000 (integer column)",
    mutated("products", b("price"), (_, d) => void (d.price = 3_000_000_000)),
    { reason: /out of range for type integer/, sqlstate: /^22003$/, stage: "write" },
    "P_bad_price",
  );
  bad(
    "products",
    "bad date (year 1850)",
    mutated("products", b("1850"), (_, d) => void (d.created_at = "1850-06-01T00:00:00Z")),
    decodeFail(/^data\.created_at: date outside 1990/),
    "P_bad_1850",
  );
  good("products", p(4, { stock: 0, description: "" }));
  bad(
    "products",
    "wrongly typed field (is_best as string)",
    mutated("products", b("best"), (_, d) => void (d.is_best = "yes")),
    decodeFail(/^data\.is_best: /),
    "P_bad_best",
  );
  bad(
    "products",
    "missing field (price)",
    mutated("products", b("noprice"), (_, d) => void delete d.price),
    decodeFail(/^data\.price: /),
    "P_bad_noprice",
  );
  good("products", p(5));
  bad(
    "products",
    "id of a stored row with other content",
    mutated("products", storedProduct, (_, d) => void (d.price = 9_900)),
    { reason: /^duplicate id with different content \(price differ from the stored row\)/, stage: "write" },
  );
  bad(
    "products",
    "bad envelope date (occurred_at not a date)",
    mutated("products", b("occ"), (e) => void (e.occurred_at = "yesterday")),
    decodeFail(/^occurred_at: /),
    "P_bad_occ",
  );
  bad(
    "products",
    "rating with two decimals (numeric(2,1) would round it)",
    mutated("products", b("rating"), (_, d) => void (d.rating = 4.55)),
    decodeFail(/^data\.rating: one decimal/),
    "P_bad_rating",
  );
  good("products", p(6, { category: "SKINCARE", brand: "라운드랩" }));
}

/** The quantity-40000 order, and its good neighbours in the same batch. */
const QTY = { bad: "O_bad_qty", before: "O_g3", after: "O_g4" };

function planOrders(): void {
  const o = (n: number, userId: string, productId: string, over: Partial<Order> = {}) =>
    order(`O_g${n}`, userId, productId, { created_at: day(n), ...over });
  const b = (label: string, over: Partial<Order> = {}) => order(`O_bad_${label}`, "U_g1", "P_g1", over);
  good("orders", o(1, "U_g1", "P_g1"));
  bad(
    "orders",
    "bad enum (payment_method BITCOIN)",
    mutated("orders", b("btc"), (_, d) => void (d.payment_method = "BITCOIN")),
    decodeFail(/^data\.payment_method: /),
    "O_bad_btc",
  );
  good("orders", o(2, "U_g2", "P_g2", { payment_method: "KAKAO_PAY", quantity: 3 }));
  bad(
    "orders",
    "discount greater than the goods (a negative total)",
    mutated("orders", b("disc"), (_, d) => {
      d.discount_amount = 50_000;
      d.total_amount = (d.unit_price as number) + (d.shipping_cost as number) - 50_000;
    }),
    decodeFail(/^data\.discount_amount: discount_amount exceeds/),
    "O_bad_disc",
  );
  bad(
    "orders",
    "negative quantity",
    mutated("orders", b("negq"), (_, d) => {
      d.quantity = -1;
      d.total_amount = -(d.unit_price as number) + (d.shipping_cost as number);
    }),
    decodeFail(/^data\.quantity: /),
    "O_bad_negq",
  );
  bad(
    "orders",
    "number beyond any float (quantity 1e400)",
    mutated("orders", b("inf"), (_, d) => void (d.quantity = "INF")).replace('"INF"', "1e400"),
    decodeFail(/^data\.quantity: /),
    "O_bad_inf",
  );
  bad(
    "orders",
    "user_id of another kind (a product's P_ id)",
    mutated("orders", b("ukind"), (_, d) => void (d.user_id = "P_g1")),
    decodeFail(/^data\.user_id: expected an id starting with U_/),
    "O_bad_ukind",
  );
  bad(
    "orders",
    "created_at in the year 2300",
    mutated("orders", b("y2300"), (_, d) => void (d.created_at = "2300-01-01T00:00:00.000Z")),
    decodeFail(/^data\.created_at: date outside 1990–2100/),
    "O_bad_y2300",
  );
  bad(
    "orders",
    "total_amount mismatch",
    mutated("orders", b("total"), (_, d) => void (d.total_amount = (d.total_amount as number) + 1)),
    decodeFail(/^data\.total_amount: total_amount must equal/),
    "O_bad_total",
  );
  good("orders", o(3, "U_g3", "P_g1", { shipping_cost: 0 }));
  bad(
    "orders",
    "quantity 40000 (smallint column)",
    mutated("orders", b("qty"), (_, d) => {
      d.quantity = 40_000;
      d.total_amount = (d.unit_price as number) * 40_000 + (d.shipping_cost as number) - (d.discount_amount as number);
    }),
    { reason: /value "40000" is out of range for type smallint/, sqlstate: /^22003$/, stage: "write" },
    QTY.bad,
  );
  good("orders", o(4, "U_g4", "P_g3", { discount_amount: 1000 }));
  bad(
    "orders",
    "user never arrives",
    encode("orders", order("O_bad_nouser", "U_never", "P_g1")),
    { reason: new RegExp(`did not arrive within ${RETRY_FOR_MS} ms`), stage: "write" },
    "O_bad_nouser",
  );
  bad(
    "orders",
    "product never arrives",
    encode("orders", order("O_bad_noprod", "U_g1", "P_never")),
    { reason: new RegExp(`did not arrive within ${RETRY_FOR_MS} ms`), stage: "write" },
    "O_bad_noprod",
  );
  // its user was dead-lettered above (NUL in the name), so it never arrives either
  bad(
    "orders",
    "user was itself dead-lettered",
    encode("orders", order("O_bad_deaduser", "U_bad_nul", "P_g2")),
    { reason: /did not arrive/, stage: "write" },
    "O_bad_deaduser",
  );
  good("orders", o(5, "U_stored", "P_stored"));
  bad(
    "orders",
    "illegal status change",
    mutated("orders", step("O_stored", "PAID", "SHIPPED"), (_, d) => void (d.to = "REFUNDED")),
    decodeFail(/^data\.to: illegal transition PAID → REFUNDED/),
  );
  bad("orders", "status change that can never apply", encode("orders", step("O_stored_cancelled", "PAID", "SHIPPED")), {
    reason: /^PAID → SHIPPED can never apply: the order is CANCELLED$/,
    stage: "write",
  });
  bad("orders", "status change whose order never arrives", encode("orders", step("O_never", "PAID", "SHIPPED")), {
    reason: new RegExp(`the order was not stored within ${RETRY_FOR_MS} ms`),
    stage: "write",
  });
  bad(
    "orders",
    "id of a stored row with other content",
    encode("orders", { ...storedOrder, quantity: 2, total_amount: storedOrder.unit_price * 2 + storedOrder.shipping_cost }),
    { reason: /^duplicate id with different content \(quantity, total_amount differ from the stored row\)/, stage: "write" },
  );
  bad(
    "orders",
    "same id twice in one batch, other content",
    mutated("orders", o(2, "U_g2", "P_g2", { payment_method: "KAKAO_PAY", quantity: 3 }), (_, d) => void (d.payment_method = "NAVER_PAY")),
    { reason: /^duplicate id with different content \(payment_method differ from the stored row\)/, stage: "write" },
  );
  good("orders", o(6, "U_g5", "P_g4", { user_gender: "M", user_age_band: "20s" }));
  bad("orders", "truncated JSON", encode("orders", b("cut")).slice(0, 60), decodeFail(/not JSON/), "O_bad_cut");
  bad(
    "orders",
    "envelope without data",
    mutated("orders", b("nodata"), (e) => void delete e.data),
    decodeFail(/^data: /),
    "O_bad_nodata",
  );
  good("orders", o(7, "U_g6", "P_g5", { user_region: "경상" }));
  bad(
    "orders",
    "wrong envelope version (v missing)",
    mutated("orders", b("nov"), (e) => void delete e.v),
    decodeFail(/^v: /),
    "O_bad_nov",
  );
  good("orders", o(8, "U_g7", "P_g6", { category: "SKINCARE" }));
  good("orders", o(9, "U_g1", "P_g6", { created_at: day(20) }));
}

/** A page event of session S_s<n> (a test session id: only its prefix is checked). */
function click(session: number, seq: number, overrides: Partial<Click> = {}): Click {
  const session_id = `S_s${session}`;
  return {
    id: `${session_id}/${seq}`,
    session_id,
    seq,
    type: seq === 0 ? "session_start" : "page_view",
    at: new Date(Date.UTC(2025, 5, 1, 3, 0, seq)),
    user_id: "U_g1",
    device: "app",
    channel: "direct",
    region: "서울",
    page: "/",
    category: seq === 0 ? "FRESH" : null,
    product_id: null,
    query: null,
    order_id: null,
    ...overrides,
  };
}

function planClicks(): void {
  // a good session, its events interleaved with bad ones under the same key
  good("clicks", click(1, 0));
  const viewed = { type: "product_view" as const, page: "/product/P_g1", category: "FRESH", product_id: "P_g1" };
  bad(
    "clicks",
    "click: unknown type",
    mutated("clicks", click(90, 0), (_, d) => void (d.type = "hover")),
    decodeFail(/^data\.type: /),
    "S_s90/0",
  );
  good("clicks", click(1, 1, viewed));
  bad(
    "clicks",
    "click: a purchase without its order",
    mutated("clicks", click(91, 3, { type: "purchase", order_id: "O_g1", page: "/order/O_g1" }), (_, d) => void (d.order_id = null)),
    decodeFail(/^data\.order_id: a purchase carries its order_id/),
    "S_s91/3",
  );
  bad(
    "clicks",
    "click: an order id on a page view",
    mutated("clicks", click(92, 1), (_, d) => void (d.order_id = "O_g1")),
    decodeFail(/^data\.order_id: /),
    "S_s92/1",
  );
  good("clicks", click(1, 2, { ...viewed, type: "add_to_cart", page: "/cart" }));
  bad(
    "clicks",
    "click: an add to cart with no product",
    mutated("clicks", click(93, 2, { ...viewed, type: "add_to_cart" }), (_, d) => void (d.product_id = null)),
    decodeFail(/^data\.product_id: this event is about a product/),
    "S_s93/2",
  );
  bad(
    "clicks",
    "click: id not <session>/<seq>",
    mutated("clicks", click(94, 1), (_, d) => void (d.id = "S_s94/7")),
    decodeFail(/^data\.id: id must be <session_id>\/<seq>/),
    "S_s94/7",
  );
  bad(
    "clicks",
    "click: session id without its prefix",
    mutated("clicks", click(95, 1), (_, d) => {
      d.session_id = "X_s95";
      d.id = "X_s95/1";
    }),
    decodeFail(/^data\.session_id: expected an id starting with S_/),
    "X_s95/1",
  );
  bad(
    "clicks",
    "click: a user id from another kind",
    mutated("clicks", click(96, 1), (_, d) => void (d.user_id = "P_g1")),
    decodeFail(/^data\.user_id: /),
    "S_s96/1",
  );
  good("clicks", click(2, 0, { user_id: null, region: null, channel: "ads", device: "mobile_web" }));
  bad(
    "clicks",
    "click: unknown device",
    mutated("clicks", click(97, 0), (_, d) => void (d.device = "fridge")),
    decodeFail(/^data\.device: /),
    "S_s97/0",
  );
  bad(
    "clicks",
    "click: negative seq",
    mutated("clicks", click(98, 1), (_, d) => {
      d.seq = -1;
      d.id = "S_s98/-1";
    }),
    decodeFail(/^data\.seq: /),
    "S_s98/-1",
  );
  bad(
    "clicks",
    "click: at not a date",
    mutated("clicks", click(99, 1), (_, d) => void (d.at = "yesterday")),
    decodeFail(/^data\.at: /),
    "S_s99/1",
  );
  bad("clicks", "click: truncated JSON", encode("clicks", click(100, 0)).slice(0, 50), decodeFail(/not JSON/), "S_s100/0");
  // a seq no smallint holds: the contract allows it, PostgreSQL refuses it (22003) and names it
  bad(
    "clicks",
    "click: seq beyond smallint",
    mutated("clicks", click(101, 1), (_, d) => {
      d.seq = 40_000;
      d.id = "S_s101/40000";
    }),
    { reason: /out of range/, sqlstate: /^22003$/, stage: "write" },
    "S_s101/40000",
  );
  good(
    "clicks",
    click(2, 1, {
      user_id: null,
      region: null,
      channel: "ads",
      device: "mobile_web",
      type: "search",
      page: "/search?q=딸기",
      query: "딸기",
    }),
  );
  good("clicks", click(1, 3, { type: "checkout", page: "/checkout" }));
}

// ---- the suite ---------------------------------------------------------------------------------------

beforeAll(async () => {
  [db, t] = await Promise.all([createTestDatabase("badinput"), createTestTopics("badinput")]);
  producer = await t.producer();
  await insertUsers(db.sql, [storedUser]);
  await insertProducts(db.sql, [storedProduct]);
  await insertOrders(db.sql, [storedOrder, storedCancelled]);
  planUsers();
  planProducts();
  planOrders();
  planClicks();
});
afterAll(async () => {
  await t?.cleanup();
  await db?.drop();
});

describe("bad input on every topic goes to its dead-letter topic; the good records around it are stored", () => {
  test("at least 40 kinds of bad input across users, products, orders and clicks", async () => {
    const kinds = sent.filter((s) => s.bad);
    expect(new Set(kinds.map((s) => s.label)).size).toBeGreaterThanOrEqual(40);
    for (const entity of ENTITY_TOPICS) expect(kinds.filter((s) => s.entity === entity).length).toBeGreaterThanOrEqual(10);

    // everything is in Kafka before any consumer starts, so each topic arrives in one fetch
    await publish(sent);
    await Promise.all([startConsumer("users"), startConsumer("products"), startConsumer("clicks")]);
    await waitForSettled(t, db.sql, ["users", "products", "clicks"]);
    // orders last: their good users and products are stored by now, so only the bad ones wait
    await startConsumer("orders");
    await waitForSettled(t, db.sql); // every group, every partition, and the parking lot: nothing stuck

    for (const entity of ENTITY_TOPICS) {
      const { dead } = await checkDeadLetters(entity);
      expect(dead.length).toBeGreaterThanOrEqual(sent.filter((s) => s.entity === entity && s.bad).length);
      // a batch held good and bad records together: some written, some dead-lettered
      const mixed = batchesSeen.filter((b) => b.entity === entity && b.written > 0 && b.dlq > 0);
      expect(mixed.length, `${entity}: a batch with good and bad records`).toBeGreaterThan(0);
    }
    // the orders that waited for their user, product or order were parked, never held their batch
    expect(batchesSeen.filter((b) => b.entity === "orders").reduce((n, b) => n + b.parked, 0)).toBeGreaterThanOrEqual(4);
    await checkStored();

    // the quantity-40000 order was written together with its neighbours, in a statement that
    // PostgreSQL refused with 22003; isolating it stored the neighbours
    const together = sinkCalls.filter(
      (c) => c.entity === "orders" && c.ids.includes(QTY.bad) && c.ids.includes(QTY.before) && c.ids.includes(QTY.after),
    );
    expect(together.map((c) => c.sqlstate)).toContain("22003");
    expect((await db.sql`select id from orders where id in ${db.sql([QTY.before, QTY.after])} order by id`).map((r) => r.id)).toEqual([
      QTY.before,
      QTY.after,
    ]);
    // the NUL and smallint users, and the integer price, were refused by PostgreSQL, not by decoding
    expect(sinkCalls.some((c) => c.entity === "users" && c.ids.includes("U_bad_nul") && c.sqlstate?.startsWith("22"))).toBe(true);
    expect(sinkCalls.some((c) => c.entity === "products" && c.ids.includes("P_bad_price") && c.sqlstate === "22003")).toBe(true);
  });

  test("after dead-lettering, the groups keep consuming new records", async () => {
    const later: Sent[] = [];
    const before = sent.length;
    good("users", user("U_after", { age: 61, birth_year: 1964 }));
    bad("users", "not JSON (after)", "}{", decodeFail(/not JSON/));
    good("products", product("P_after", { category: "PAPER", brand: "모나리자" }));
    bad(
      "products",
      "unknown event_type (after)",
      mutated("products", product("P_bad_after"), (e) => void (e.event_type = "product_updated")),
      decodeFail(/^event_type: /),
      "P_bad_after",
    );
    good("orders", order("O_after", "U_after", "P_after", { created_at: new Date("2025-07-01T00:00:00Z"), user_age_band: "50s+" }));
    bad(
      "orders",
      "bad enum (status SHIPPED, after)",
      mutated("orders", order("O_bad_after", "U_after", "P_after"), (_, d) => void (d.status = "SHIPPED")),
      decodeFail(/^data\.status: /),
      "O_bad_after",
    );
    later.push(...sent.slice(before));
    // the new order's user and product first, so the order does not have to wait for them
    await publish(later.filter((s) => s.entity !== "orders"));
    await waitForSettled(t, db.sql, ["users", "products"]);
    await publish(later.filter((s) => s.entity === "orders"));
    await waitForSettled(t, db.sql);

    for (const entity of ENTITY_TOPICS) await checkDeadLetters(entity);
    await checkStored();
    const [row] =
      await db.sql`select o.id, u.last_ordered_at, p.order_count from orders o join users u on u.id = o.user_id join products p on p.id = o.product_id where o.id = 'O_after'`;
    expect(row).toEqual({ id: "O_after", last_ordered_at: new Date("2025-07-01T00:00:00Z"), order_count: 1 });
  });
});

import { parseArgs } from "node:util";
import { formatScore, type Injection, type SinkRows, score } from "../analytics/chaos-score.ts";
import { CHAOS_KINDS } from "../domain/chaos.ts";
import { landInjections, sinkRows, stepRows } from "../db/chaos.ts";
import { openDatabase } from "../db/open.ts";
import { connectAdmin, createKafkaClient } from "../kafka/client.ts";
import type { DeadLetter } from "../kafka/dead-letter.ts";
import { readTopic } from "../kafka/read-topic.ts";
import { ENTITY_TOPICS, type EntityTopic, topicNames } from "../kafka/topics.ts";
import { runService } from "../services/runtime.ts";
import { flagsOrUsage } from "./usage.ts";

// `bun run chaos-score`: reads the answer key (the chaos.key topic a --chaos run wrote), lands it in
// chaos_injections, and scores a sink against it, kind by kind: handled (a duplicate absorbed,
// poison dead-lettered, a good record stored with its true time), passed through, lost.

const USAGE = `usage: bun run chaos-score [--topic T] [--sink-url URL] [--table T] [--id-column C] [--time-column C] [--dlq-topic T] [--json]
  --topic T        only what was injected into this topic (users, products, orders; default: all)
  --sink-url URL   the sink's PostgreSQL (default: DATABASE_URL, shopstream's own)
  --table T        the sink table, with --topic (default: each topic's own table in shopstream's schema)
  --id-column C    its id column (default: id)
  --time-column C  its event-time column, for late records (default: created_at; "none" to skip)
  --dlq-topic T    where the sink dead-letters poison (default: shopstream's <topic>.dlq; "none": not looked at)
  --json           the score as JSON`;

export function parseScoreFlags(argv: string[]) {
  const { values } = parseArgs({
    args: argv,
    options: {
      topic: { type: "string" },
      "sink-url": { type: "string" },
      table: { type: "string" },
      "id-column": { type: "string", default: "id" },
      "time-column": { type: "string", default: "created_at" },
      "dlq-topic": { type: "string" },
      json: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
    strict: true,
  });
  const topic = values.topic;
  if (topic !== undefined && !(ENTITY_TOPICS as readonly string[]).includes(topic))
    throw new Error(`--topic: expected one of ${ENTITY_TOPICS.join(", ")}, got "${topic}"`);
  const time = values["time-column"] as string;
  if (values.table !== undefined && topic === undefined) throw new Error("--table: say which topic it holds with --topic");
  return {
    topic: topic as EntityTopic | undefined,
    sinkUrl: values["sink-url"],
    table: values.table,
    idColumn: values["id-column"] as string,
    timeColumn: time === "none" ? null : time,
    dlqTopic: values["dlq-topic"],
    json: values.json as boolean,
    help: values.help as boolean,
  };
}

const OWN_TABLES: Record<EntityTopic, { table: string; timeColumn: string }> = {
  users: { table: "users", timeColumn: "created_at" },
  products: { table: "products", timeColumn: "created_at" },
  orders: { table: "orders", timeColumn: "created_at" },
  clicks: { table: "click_events", timeColumn: "at" },
};

if (import.meta.main) {
  runService(
    "chaos-score",
    async ({ config, log }) => {
      const flags = flagsOrUsage(USAGE, () => parseScoreFlags(Bun.argv.slice(2)));
      if (!flags) return;
      const names = topicNames(config.topicPrefix);
      const entityOf = new Map(ENTITY_TOPICS.map((e) => [names.topic(e), e]));
      const client = await createKafkaClient(config, "chaos-score", log);
      const admin = await connectAdmin(client);
      const sql = await openDatabase(config.databaseUrl, { max: 2 });
      const sink = flags.sinkUrl ? await openDatabase(flags.sinkUrl, { max: 2 }) : sql;
      try {
        const lines = (await readTopic(client, admin, names.chaosKey())).map(
          (m) => JSON.parse(m.value) as Injection & { at: string; detail?: { true_at?: string } },
        );
        const unplaced = lines.filter((l) => l.offset === null).length;
        if (unplaced > 0) log.warn(`${unplaced} answer key line(s) without an offset (the Kafka client did not say): left out`);
        // a key line resent with its batch is there twice: one injection per record
        const seen = new Set<string>();
        const injections = lines
          .filter((l) => l.offset !== null && (CHAOS_KINDS as readonly string[]).includes(l.kind))
          .filter((l) => {
            const at = `${l.topic}/${l.partition}/${l.offset}`;
            if (seen.has(at)) return false;
            seen.add(at);
            return true;
          })
          .map((l) => ({ ...l, trueAt: l.detail?.true_at }))
          .filter((l) => flags.topic === undefined || entityOf.get(l.topic) === flags.topic);
        const added = await landInjections(sql, injections);
        // lifecycle steps (`<order id>:<status>`) are scored against shopstream's order_events; a sink
        // of your own (--table) is scored on the entities alone
        const isStep = (i: Injection) => i.event_id.includes(":");
        const steps = flags.table ? [] : injections.filter(isStep);
        const scored = [...injections.filter((i) => !isStep(i)), ...steps];
        const topics = [...new Set(scored.map((i) => i.topic))];
        // what the sink holds of each injected id, topic by topic
        const held = new Map<string, Map<string, SinkRows>>();
        for (const topic of topics) {
          // shopstream's own tables: one per entity, the clicks' events in click_events (their time is `at`)
          const own = OWN_TABLES[entityOf.get(topic) as EntityTopic];
          const table = flags.table ?? own.table;
          const timeColumn = flags.table ? flags.timeColumn : own.timeColumn;
          const ids = [...new Set(scored.filter((i) => i.topic === topic && !isStep(i)).map((i) => i.event_id))];
          held.set(topic, await sinkRows(sink, table, ids, { idColumn: flags.idColumn, timeColumn }));
        }
        const stepsHeld = await stepRows(sink, [...new Set(steps.map((i) => i.event_id))]);
        // where poison went: the dead letters name their source record
        const dead = new Set<string>();
        if (flags.dlqTopic !== "none") {
          const dlqs = flags.dlqTopic ? [flags.dlqTopic] : topics.map((t) => names.dlq(entityOf.get(t) as EntityTopic));
          for (const dlq of dlqs)
            for (const m of await readTopic(client, admin, dlq).catch(() => [])) {
              const { source } = JSON.parse(m.value) as DeadLetter;
              if (source) dead.add(`${source.topic}/${source.partition}/${source.offset}`);
            }
        }
        const scores = score(
          scored,
          (i) => (isStep(i) ? stepsHeld : held.get(i.topic))?.get(i.event_id),
          (i) => dead.has(`${i.topic}/${i.partition}/${i.offset}`),
        );
        if (flags.json) console.log(JSON.stringify({ injections: injections.length, scored: scored.length, landed: added, scores }));
        else {
          const left = injections.length - scored.length;
          console.log(
            `${injections.length} injection(s) in ${names.chaosKey()} (${added} newly landed in chaos_injections)` +
              (left ? `; ${left} lifecycle step(s) left out: --table scores entities only` : ""),
          );
          console.log(formatScore(scores));
        }
      } finally {
        await admin.close();
        if (sink !== sql) await sink.end();
        await sql.end();
      }
    },
    { ownFlags: true, metrics: false },
  );
}

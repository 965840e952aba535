import { Counter, Histogram, Registry } from "prom-client";

// Each service process records into its own prom-client registry; publish() ships a JSON snapshot
// to Redis every few seconds and the metrics service sums all live snapshots with prom-client's
// AggregatorRegistry (the same mechanism it uses for Node cluster workers). One /metrics for
// twelve processes, without twelve ports to scrape.

export const registry = new Registry();

export const produced = new Counter({
  name: "shopstream_messages_produced_total",
  help: "Messages acknowledged by Kafka (acks=all), per topic",
  labelNames: ["topic"] as const,
  registers: [registry],
});

export const consumed = new Counter({
  name: "shopstream_messages_consumed_total",
  help: "Messages consumed and committed after their PostgreSQL write, per topic",
  labelNames: ["topic"] as const,
  registers: [registry],
});

export const deadLettered = new Counter({
  name: "shopstream_dlq_messages_total",
  help: "Messages sent to a dead-letter topic, per source topic",
  labelNames: ["topic"] as const,
  registers: [registry],
});

export const batchSize = new Histogram({
  name: "shopstream_consumer_batch_size",
  help: "Records per consumed batch, per topic",
  labelNames: ["topic"] as const,
  buckets: [1, 5, 10, 50, 100, 500, 1000, 5000, 10000],
  registers: [registry],
});

export const dbWriteSeconds = new Histogram({
  name: "shopstream_db_write_seconds",
  help: "Time to write one consumed batch to PostgreSQL (one transaction, set-based per table), per topic",
  labelNames: ["topic"] as const,
  buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
  registers: [registry],
});

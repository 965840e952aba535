import { Counter, Gauge, Histogram, Registry } from "prom-client";

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
  help: "Messages read by the consumers and committed, per topic: stored + dead-lettered",
  labelNames: ["topic"] as const,
  registers: [registry],
});

export const stored = new Counter({
  name: "shopstream_messages_stored_total",
  help: "Consumed messages PostgreSQL accepted (new rows, and copies of stored ones that change nothing), per topic",
  labelNames: ["topic"] as const,
  registers: [registry],
});

export const transitions = new Counter({
  name: "shopstream_order_transitions_total",
  help: "Order lifecycle steps the consumers applied, by the status reached",
  labelNames: ["to"] as const,
  registers: [registry],
});

export const chaosInjected = new Counter({
  name: "shopstream_chaos_injected_total",
  help: "Faults injected under --chaos and written to the answer key, per topic and kind",
  labelNames: ["topic", "kind"] as const,
  registers: [registry],
});

export const deadLettered = new Counter({
  name: "shopstream_dlq_messages_total",
  help: "Messages sent to a dead-letter topic, per source topic",
  labelNames: ["topic"] as const,
  registers: [registry],
});

export const parkedTotal = new Counter({
  name: "shopstream_messages_parked_total",
  help: "Consumed messages parked to wait for what they reference (stored or dead-lettered later), per topic",
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

export const produceRetries = new Counter({
  name: "shopstream_produce_retries_total",
  help: "Messages resent after a batch was not acknowledged (broker loss, leader moves)",
  registers: [registry],
});

export const producerRecreations = new Counter({
  name: "shopstream_producer_recreations_total",
  help: "Times a producer lane replaced its idempotent Kafka producer after a failed batch",
  registers: [registry],
});

export const produceRejected = new Counter({
  name: "shopstream_produce_rejected_total",
  help: "Messages a producer rejected for good, never sent (a topic missing or refused, a record Kafka cannot take), per topic and reason",
  labelNames: ["topic", "reason"] as const,
  registers: [registry],
});

let buffered: () => number = () => 0;
/** Where this process's producer-buffer gauge reads from (its BatchingProducer). */
export function reportBuffered(source: () => number): void {
  buffered = source;
}

export const producerBuffered = new Gauge({
  name: "shopstream_producer_buffered_messages",
  help: "Messages accepted by a producer and not yet acknowledged by Kafka",
  registers: [registry],
  collect() {
    this.set(buffered());
  },
});

let activeScenario: () => string | null = () => null;
/** Where this process's active-scenario gauge reads from (the producer's order generator). */
export function reportScenario(source: () => string | null): void {
  activeScenario = source;
}

export const producerScenario = new Gauge({
  name: "shopstream_producer_scenario",
  help: "1 for the scenario the producer draws its orders under",
  labelNames: ["scenario"] as const,
  registers: [registry],
  collect() {
    this.reset();
    const id = activeScenario();
    if (id) this.set({ scenario: id }, 1);
  },
});

let schemaSource: () => { topic: string; format: string; version: number; schemaId: number | null }[] = () => [];
/** Where this process's topic-schema gauge reads from (a producing service's serializer). */
export function reportSchemas(source: typeof schemaSource): void {
  schemaSource = source;
}

export const topicSchema = new Gauge({
  name: "shopstream_topic_schema",
  help: "The registry's schema id a producer writes a topic's values under (0: plain JSON), by format and schema version",
  labelNames: ["topic", "format", "version"] as const,
  registers: [registry],
  // several processes write the orders topic: the aggregated /metrics keeps one series per format and version
  aggregator: "max",
  collect() {
    this.reset();
    for (const t of schemaSource()) this.set({ topic: t.topic, format: t.format, version: String(t.version) }, t.schemaId ?? 0);
  },
});

// Per process (labelled with the service's name when it ships its snapshot): the aggregated
// /metrics keeps one series per service instead of summing every process into one.
export const processMemory = new Gauge({
  name: "shopstream_process_resident_memory_bytes",
  help: "Resident memory of each service process",
  labelNames: ["service"] as const,
  registers: [registry],
});

export const processCpu = new Counter({
  name: "shopstream_process_cpu_seconds_total",
  help: "CPU time (user + system) spent by each service process",
  labelNames: ["service"] as const,
  registers: [registry],
});

// The CDC connector as the cdc-watch service sees it (docs/connect.md); one watch per pipeline,
// so the aggregated /metrics keeps its values as they are.
export const cdcConnector = new Gauge({
  name: "shopstream_cdc_connector_state",
  help: "The CDC connector's state on Kafka Connect: 1 for the state it is in (MISSING: not on the worker, UNREACHABLE: no worker answers)",
  labelNames: ["state"] as const,
  registers: [registry],
  aggregator: "max",
});

export const cdcTasks = new Gauge({
  name: "shopstream_cdc_tasks",
  help: "The CDC connector's tasks, by state",
  labelNames: ["state"] as const,
  registers: [registry],
  aggregator: "max",
});

export const cdcSlotRetained = new Gauge({
  name: "shopstream_cdc_slot_retained_bytes",
  help: "WAL PostgreSQL keeps for the CDC connector's replication slot (a slot nobody reads grows until the disk is full)",
  registers: [registry],
  aggregator: "max",
});

export const cdcRestarts = new Counter({
  name: "shopstream_cdc_restarts_total",
  help: "Restarts of the CDC connector's failed connector or tasks by the watch",
  registers: [registry],
});

export const flinkJob = new Gauge({
  name: "shopstream_flink_job_state",
  help: "The Flink jobs `bun run flink` runs (docs/flink.md): 1 for their state, RUNNING while the job runs, then FINISHED, STOPPED (a signal) or FAILED",
  labelNames: ["state"] as const,
  registers: [registry],
  aggregator: "max",
});

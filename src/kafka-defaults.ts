// Every Kafka setting shopstream chooses, in one table (docs/design.md, "Kafka client"): the
// batching producer takes its batching from here, both adapters map the rest onto their client's
// own option names, and config.ts lets the ones users tune be set by environment variable (README,
// "Configuration"; the variable is named beside each). Measured on the 2-core bench machine
// (bench/RESULTS.md). Data only: config.ts and kafka/ read it.

const MiB = 1024 * 1024;

export const KAFKA_DEFAULTS = {
  producer: {
    /** How long a lane waits for more records before it sends its batch (KAFKA_LINGER_MS). */
    lingerMs: 5,
    /** Records per batch at most (KAFKA_BATCH_MESSAGES). */
    batchMessages: 2000,
    /**
     * Bytes per batch at most (KAFKA_BATCH_BYTES). A lane's batch goes to one partition: this keeps
     * its record batch under the broker's 1 MB message.max.bytes (about 1,200 orders of ~600 bytes).
     */
    batchBytes: 768 * 1024,
    /**
     * Records sent and not yet acknowledged before send() waits (KAFKA_BUFFER_MESSAGES): 10,000 keep
     * every lane's next batch full at full rate (0.25 s at 40,000/s) while bounding what an outage
     * holds in memory; more only grows the heap (bench/RESULTS.md, "Memory").
     */
    bufferMessages: 10_000,
    /** Seconds between looks at a topic's partitions (KAFKA_METADATA_REFRESH_S). */
    metadataRefreshS: 10,
    /** Seconds sends to a missing topic wait for it before they are rejected (KAFKA_MISSING_TOPIC_S). */
    missingTopicS: 30,
    /** How long close() waits for the last acknowledgements. */
    closeTimeoutMs: 30_000,
    /** How long the client waits for one produce request's answer (platformatic). */
    requestTimeoutMs: 10_000,
    /**
     * A few quick retries inside the client (a leader moving); past them the batching producer opens
     * a new writer and resends, which also clears any sequence state a failure left behind.
     */
    retries: 5,
    retryFirstMs: 100,
    retryMaxMs: 2000,
    /** platformatic retries at a fixed delay. */
    retryDelayMs: 200,
  },
  consumer: {
    /** Records of one partition handed to the sink at most, in one batch (platformatic gathers its batches itself). */
    batchMessages: 5000,
    /** Records fetched and not yet handed over before fetching pauses (platformatic): three batches. */
    bufferMessages: 15_000,
    /** How long a fetch waits for records to arrive. */
    maxWaitMs: 250,
    /**
     * Bytes per partition fetch (kafkajs' default is 1 MB): a consumer behind by more than a fetch
     * gets ~4,000 orders per batch instead of ~1,100, and each batch's fixed costs (one commit, one
     * update per distinct user and product) are shared by 4× as many rows.
     */
    maxBytesPerPartition: 4 * MiB,
    /** Bytes per fetch over all partitions (platformatic). */
    maxBytes: 12 * MiB,
    /**
     * A member lost with its broker holds the group up until its session times out: the session
     * timeout is how long the whole group may stall after a broker loss. 10 s (the broker allows 6 s
     * and up) against the clients' 30 s; a batch write takes well under a second, and the retry
     * loops heartbeat while they wait.
     */
    sessionTimeoutMs: 10_000,
    rebalanceTimeoutMs: 20_000,
    heartbeatIntervalMs: 1000,
    /**
     * A dead broker may be the group's coordinator or a fetched partition's leader: retries spanning
     * ~10 s outlast the broker's fencing (6 s here) and the coordinator's move, so the same member
     * carries on (bench/RESULTS.md, "Broker SIGKILL": stalls of 4–8 s instead of 10–40 s).
     */
    retries: 12,
    retryFirstMs: 100,
    retryMaxMs: 1000,
    /** platformatic retries at a fixed delay. */
    retryDelayMs: 800,
  },
  /** Every connection the clients open. */
  connectTimeoutMs: 5000,
  /** Requests of the admin and of kafkajs' client as a whole (metadata, offsets). */
  admin: { retries: 8, retryFirstMs: 200, platformaticRetries: 3, retryDelayMs: 300 },
} as const;

import { type Config, loadConfig } from "../config.ts";
import { ConfigError } from "../env-reader.ts";
import type { ProducerHooks } from "../kafka/batching-producer.ts";
import { describe } from "../errors.ts";
import { sleep } from "../retry.ts";
import { type Logger, logger, StormLog } from "../log.ts";
import { connectRedis } from "../cache/client.ts";
import { publishMetrics } from "../metrics/publish.ts";
import { chaosInjected, produced, produceRejected, produceRetries, producerRecreations } from "../metrics/registry.ts";
import { ChaosSender, plainSender, type RecordSender } from "../pipeline/chaos-sender.ts";
import type { BatchingProducer } from "../kafka/batching-producer.ts";
import type { TopicNames } from "../kafka/topics.ts";
import type { EventEncoder } from "../schemas/serializer.ts";
import { instanceSeed } from "../domain/random.ts";

export interface ServiceContext {
  config: Config;
  /** The service's name, as its log lines and metrics carry it. */
  name: string;
  log: Logger;
  /** Aborted on SIGINT/SIGTERM: loops stop, then cleanup runs. */
  signal: AbortSignal;
  /** Aborted on a second SIGINT/SIGTERM: the stop is forced, so cleanup waits for nothing more (and says what it left undelivered). */
  hurry: AbortSignal;
}

/**
 * The shell every service runs in: config (fails fast naming the variable), a logger, its metrics
 * shipped to Redis for /metrics, and a clean shutdown on SIGINT/SIGTERM — main() sees its signal
 * aborted and returns after flushing/committing. The arguments are the live flags (config.live),
 * unless the tool parses flags of its own (`ownFlags`). One-shot tools ship no metrics (`metrics: false`).
 */
export function runService(
  naming: string | ((config: Config) => string),
  main: (ctx: ServiceContext) => Promise<void>,
  opts: { ownFlags?: boolean; metrics?: boolean } = {},
): void {
  let config: Config;
  try {
    config = loadConfig(process.env, opts.ownFlags ? [] : Bun.argv.slice(2));
  } catch (err) {
    const label = typeof naming === "string" ? naming : "service";
    console.error(err instanceof ConfigError ? `[${label}] config error: ${err.message}` : `[${label}] ${describe(err)}`);
    process.exit(2);
  }
  const name = typeof naming === "string" ? naming : naming(config);
  const log = logger(name, config.logFormat);
  const controller = new AbortController();
  const hurry = new AbortController();
  const stop = (sig: string) => {
    if (!controller.signal.aborted) {
      log.info(`${sig} received, shutting down`);
      controller.abort();
    } else if (!hurry.signal.aborted && sig !== "supervisor gone") {
      log.info(`second ${sig}: stopping now, without waiting for Kafka`);
      hurry.abort();
    }
  };
  // A pool dropped by a write deadline (src/db/bounded.ts) may still be connecting: postgres.js
  // then rejects that connection's start with nobody listening. That one is expected; any other
  // unhandled rejection still ends the process, as it would without this handler.
  process.on("unhandledRejection", (err) => {
    if ((err as { code?: unknown } | null)?.code === "CONNECTION_DESTROYED") return;
    log.error("unhandled rejection", err);
    process.exit(1);
  });
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGTERM", () => stop("SIGTERM"));
  if (config.supervised) {
    // start:all runs each service in its own process group; if start:all itself is killed,
    // nobody would signal us: stop cleanly once we are reparented
    const parent = process.ppid;
    setInterval(() => {
      if (process.ppid !== parent) stop("supervisor gone");
    }, 1000).unref();
  }
  // every process of the pipeline ships its figures (its own memory and CPU among them)
  const metricsRedis = opts.metrics === false ? null : connectRedis(config.redisUrl, { log });
  const stopMetrics = metricsRedis ? publishMetrics(metricsRedis, config.cachePrefix, name) : async () => {};
  const exit = async (code: number) => {
    await stopMetrics();
    metricsRedis?.disconnect();
    process.exit(code);
  };
  main({ config, name, log, signal: controller.signal, hurry: hurry.signal }).then(
    () => exit(typeof process.exitCode === "number" ? process.exitCode : 0),
    (err) => {
      log.error("fatal", err);
      void exit(1);
    },
  );
}

export { sleep };

/** Plain, or with the chaos of --chaos: each record's faults drawn from the seed and its id (the orders stay those of the seed). */
export function recordSender(
  config: Config,
  producer: BatchingProducer,
  names: TopicNames,
  values: EventEncoder,
  log: Logger,
  stream: string,
): RecordSender {
  const profile = config.live.chaos;
  if (!profile) return plainSender(producer, names, values);
  log.warn(`chaos "${profile.name}": injecting data-quality faults, each written to ${names.chaosKey()} (bun run chaos-score)`);
  const sender = new ChaosSender(producer, names, values, profile, `${instanceSeed(config.seed, config.instance)}:chaos:${stream}`, {
    onInjected: (topic, kind) => chaosInjected.inc({ topic, kind }),
  });
  return {
    send: (entity, key, data, step) => sender.send(entity, key, data, step),
    async close(giveUp) {
      const lost = await sender.close(giveUp);
      log.info(`chaos "${profile.name}" injected: ${sender.summary()} (each in ${names.chaosKey()})`);
      return lost;
    },
  };
}

/**
 * Resolves when `work` settles (either way) or when the signal aborts, whichever comes first. The
 * abort listener is removed again, so waiting in a loop accumulates nothing.
 */
export function settledOrAborted(work: Promise<unknown>, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    function done() {
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
    work.then(done, done);
  });
}

/** Resolves once the signal aborts, or at once when it already has: a stop that came during start-up is not missed. */
export function untilAborted(signal: AbortSignal): Promise<void> {
  return settledOrAborted(new Promise<never>(() => {}), signal);
}

/**
 * Calls tick() after each interval until the signal aborts; intervalMs() is asked anew each time.
 * With `immediately`, tick() runs once at once, before the first interval. With `leaveAtAbort`, a
 * tick still running at the abort is left to settle on its own and every() returns at once, so a
 * stop never waits on it (a query to a database that hangs): only for ticks that are safe to
 * abandon halfway (read-only, idempotent, or one transaction) and that look at the signal before
 * doing anything more.
 */
export async function every(
  intervalMs: () => number,
  tick: () => Promise<void> | void,
  signal: AbortSignal,
  opts: { immediately?: boolean; leaveAtAbort?: boolean } = {},
): Promise<void> {
  const run = async () => {
    const ticking = (async () => tick())();
    if (opts.leaveAtAbort) {
      ticking.catch(() => {}); // left behind at the abort, its failure concerns nobody
      await settledOrAborted(ticking, signal);
      if (signal.aborted) return;
    }
    await ticking;
  };
  if (opts.immediately && !signal.aborted) await run();
  while (!signal.aborted) {
    await sleep(intervalMs(), signal);
    if (signal.aborted) break;
    await run();
  }
}

/**
 * The loop of a service that works once per period (the cache-worker's reload, the grade
 * recompute, the lifecycle's poll): `work` at once, then once per `periodMs` (asked anew each time
 * when a function), however long each run
 * took — or, with `pause`, `periodMs` after each run ends, without a run at once (a poll that must
 * not run back to back when it takes longer than its period). A failed run is noted on a StormLog
 * (a failure storm as counted summaries, not a line per period) under `failure`, and the next
 * period tries again. A run still going at the stop is left to settle on its own (every()'s
 * leaveAtAbort): `work` must be safe to abandon halfway.
 */
export async function periodically(
  periodMs: number | (() => number),
  work: () => Promise<void>,
  ctx: Pick<ServiceContext, "log" | "signal">,
  failure: string,
  opts: { pause?: boolean } = {},
): Promise<void> {
  const storm = new StormLog((line) => ctx.log.error(line));
  const period = typeof periodMs === "number" ? () => periodMs : periodMs;
  let started = 0;
  await every(
    () => (opts.pause ? period() : Math.max(0, period() - (Date.now() - started))),
    async () => {
      started = Date.now();
      try {
        await work();
      } catch (err) {
        if (!ctx.signal.aborted) storm.note(describe(err), failure);
      }
    },
    ctx.signal,
    { immediately: !opts.pause, leaveAtAbort: true },
  );
  storm.close();
}

/**
 * Fixed-rate driver: emits rate×dt orders per 10 ms tick. emit() waits while the producer's buffer
 * is full; a backlog of more than one second's orders is forgiven rather than burst out afterwards.
 */
export async function rateLoop(rate: number, emit: () => Promise<void> | void, signal: AbortSignal): Promise<void> {
  const started = performance.now();
  let emitted = 0;
  while (!signal.aborted) {
    const due = Math.floor(((performance.now() - started) / 1000) * rate);
    if (due - emitted > rate) emitted = due - Math.ceil(rate);
    while (emitted < due && !signal.aborted) {
      await emit();
      emitted++;
    }
    await sleep(10, signal);
  }
}

/**
 * What every producing service counts: acknowledged and rejected messages per topic (labelled
 * without the pipeline's TOPIC_PREFIX, as the consumers label theirs), resends, re-created producers.
 */
export function producerMetrics(topicPrefix: string): ProducerHooks {
  const label = (topic: string) => (topic.startsWith(topicPrefix) ? topic.slice(topicPrefix.length) : topic);
  return {
    onAcked: (topic, n) => produced.inc({ topic: label(topic) }, n),
    onRetry: (n) => produceRetries.inc(n),
    onRecreate: () => producerRecreations.inc(),
    onRejected: (topic, n, reason) => produceRejected.inc({ topic: label(topic), reason }, n),
  };
}

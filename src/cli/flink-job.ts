import { join } from "node:path";
import type { Config } from "../config.ts";

// How the Flink jobs (flink/, docs/flink.md) are built and started: shared by `bun run flink` and
// the engines' benchmark, so that both run the same JVM with the same settings.

const ROOT = join(import.meta.dir, "..", "..");
/** The mini-cluster's heap: the job's state is a minute's windows; two cores run it. */
const FLINK_HEAP = "-Xmx768m";

/** Builds the jobs with Maven when their sources changed; their classpath, or null when the build failed (said on stderr). */
export async function flinkClasspath(started: (build: ReturnType<typeof Bun.spawn>) => void = () => {}): Promise<string | null> {
  const build = Bun.spawn(["bash", join(ROOT, "deploy/local/infra.sh"), "flink-classpath"], { stdout: "pipe", stderr: "inherit" });
  started(build);
  const classpath = (await new Response(build.stdout).text()).trim();
  return (await build.exited) === 0 ? classpath : null;
}

/** The JVM running ShopJobs with `args`; UTC, as the JDBC driver writes a TIMESTAMP in the JVM's zone. */
export function flinkJobCommand(classpath: string, args: readonly string[]): string[] {
  return ["java", FLINK_HEAP, "-Duser.timezone=UTC", "-cp", classpath, "dev.shopstream.flink.ShopJobs", ...args];
}

/** What the job reads of the pipeline's settings. */
export function flinkJobEnv(
  config: Pick<Config, "kafkaBrokers" | "topicPrefix" | "databaseUrl" | "kafkaPartitions">,
): Record<string, string> {
  return {
    KAFKA_BROKERS: config.kafkaBrokers.join(","),
    TOPIC_PREFIX: config.topicPrefix,
    DATABASE_URL: config.databaseUrl,
    KAFKA_PARTITIONS: String(config.kafkaPartitions),
  };
}

import { connectRedis } from "../../src/cache/client.ts";
import { loadConfig } from "../../src/config.ts";
import { runMicro, type MicroResult } from "../micro.ts";
import { finish, jobFromEnv } from "./job.ts";

// The mitata micro-benchmarks in a process of their own: thousands of iterations churn through
// memory, and the harness that measures everyone's peak RSS should not carry that itself.

const job = jobFromEnv<{ cachePrefix: string }>();
const redis = connectRedis(loadConfig().redisUrl);
const result = await runMicro(redis, job.cachePrefix, { print: true });
redis.disconnect();
finish<MicroResult & { peakRssMb?: number }>(result);

import { assertRedisReachable, connectRedis } from "../cache/client.ts";
import { cacheKeys } from "../cache/keys.ts";
import { readStatus, reloadBanner, statusLine } from "../cache/monitor.ts";
import { describe } from "../errors.ts";
import { every, runService } from "./runtime.ts";

// One status line a second: redrawn in place on a terminal, one line per tick when piped.
runService("redis-monitor", async ({ config, signal }) => {
  const redis = connectRedis(config.redisUrl);
  await assertRedisReachable(redis);
  const keys = cacheKeys(config.cachePrefix);
  const periodS = config.cacheRefreshS / config.speed;
  const tty = process.stdout.isTTY;
  let lastReloads: number | null = null;
  const intervalMs = (config.monitorIntervalS ?? 1) * 1000;
  await every(
    () => intervalMs,
    async () => {
      let line: string;
      try {
        const status = await readStatus(redis, keys, periodS);
        if (lastReloads !== null && status.reloads > lastReloads) {
          process.stdout.write(`${tty ? "\r\x1b[2K" : ""}${reloadBanner(status.reloads)}\n`);
        }
        lastReloads = status.reloads;
        line = statusLine(status);
      } catch (err) {
        line = `[${new Date().toTimeString().slice(0, 8)}] Redis unreachable: ${describe(err)}`;
      }
      process.stdout.write(tty ? `\r\x1b[2K${line}` : `${line}\n`);
    },
    signal,
  );
  if (tty) process.stdout.write("\n");
  redis.disconnect();
});

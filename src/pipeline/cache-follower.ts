import type Redis from "ioredis";
import { type CacheKeys, cacheKeys } from "../cache/keys.ts";
import { resolveScenario, ScenarioSwitch } from "../cache/scenario-switch.ts";
import type { CachedProduct, CachedUser } from "../cache/reload.ts";
import { type CacheSnapshot, currentGeneration, readSnapshot, recordLookup } from "../cache/snapshot.ts";
import type { OrderGenerator } from "../domain/order-generator.ts";
import { BASELINE, type Scenario, scenarioForHour } from "../domain/scenarios.ts";
import { seoulHour } from "../domain/seoul-time.ts";
import type { Logger } from "../log.ts";
import { describe } from "../errors.ts";

// The producer's view of the cache (docs/design.md, "Cache"): a cheap check each second, a full
// pipelined read only when the cache-worker has reloaded. An unreachable or emptied Redis (a
// restart) never replaces a good snapshot: orders go on from the last one until a reload arrives.
// The scenario follows, in this order: a switch pinned in Redis (the live page), the --scenario
// the producer was started with, the hour-tied preset, the baseline. Under --rate a simulated day
// passes in milliseconds and spans every hour, so the wall clock's hour ties no preset there.

export class CacheFollower {
  private generation: string | null = null;
  private snapshot: CacheSnapshot | null = null;
  private pinned: Scenario | undefined;
  private redisDown = false;
  private waitingForReload = false;
  /** A pin that names no scenario is reported once, not every second. */
  private rejectedPin: string | null = null;

  private readonly keys: CacheKeys;
  private readonly scenarioSwitch: ScenarioSwitch;

  constructor(
    private readonly redis: Redis,
    cachePrefix: string,
    private readonly generator: OrderGenerator<CachedUser, CachedProduct>,
    private readonly log: Logger,
    private readonly startScenario?: Scenario,
    /** false under --rate: the wall clock's hour is not the shop's. */
    private readonly hourPresets = true,
    /** Told of each new snapshot taken (the clickstream's catalogue follows the cache too). */
    private readonly onSnapshot?: (snapshot: CacheSnapshot) => void,
  ) {
    this.keys = cacheKeys(cachePrefix);
    this.scenarioSwitch = new ScenarioSwitch(redis, cachePrefix);
    this.pinned = startScenario;
  }

  scenarioAt(at: Date): Scenario {
    return this.pinned ?? (this.hourPresets ? scenarioForHour(seoulHour(at)) : undefined) ?? BASELINE;
  }

  /** One check; refreshes the generator when the cache was reloaded or the scenario moved. */
  async sync(now: Date = new Date()): Promise<void> {
    try {
      const [gen, pin] = await Promise.all([currentGeneration(this.redis, this.keys), this.scenarioSwitch.pinned()]);
      if (this.redisDown) this.log.info("Redis is back");
      this.redisDown = false;
      this.followPin(pin);
      const scenario = this.scenarioAt(now);
      if (gen !== this.generation || !this.snapshot) {
        const fresh = await readSnapshot(this.redis, this.keys);
        const hit = fresh.users.length > 0 && fresh.products.length > 0;
        await recordLookup(this.redis, this.keys, hit);
        if (!hit) {
          if (!this.waitingForReload) {
            this.log.warn(
              this.snapshot
                ? "the cache is empty (Redis restarted?): keeping the previous snapshot until the cache-worker reloads"
                : "cache is empty: waiting for the cache-worker",
            );
          }
          this.waitingForReload = true;
          return;
        }
        this.waitingForReload = false;
        this.snapshot = fresh;
        this.generation = fresh.generation;
        this.onSnapshot?.(fresh);
      } else {
        await recordLookup(this.redis, this.keys, true); // the generation we hold is still the cache's
        if (scenario === this.generator.scenario) return;
      }
      this.generator.refresh(this.snapshot.users, this.snapshot.products, now, scenario);
      this.log.info(
        `cache generation ${this.generation}: ${this.generator.drawsFromWholeBase ? "every order drawn from all" : `top ${this.generator.top.length} of`} ${this.snapshot.users.length} users, ${this.snapshot.products.length} products, scenario ${scenario.id}`,
      );
    } catch (err) {
      if (!this.redisDown)
        this.log.error(
          this.snapshot
            ? "Redis unreachable: publishing from the last snapshot and retrying every second"
            : "Redis unreachable: retrying every second",
          err,
        );
      this.redisDown = true;
    }
  }

  /** A pin set in Redis wins; once it is cleared, the scenario the producer was started with returns. */
  private followPin(pin: string | null): void {
    if (!pin) {
      this.pinned = this.startScenario;
      return;
    }
    if (pin === this.pinned?.id) return;
    try {
      this.pinned = resolveScenario(pin);
    } catch (err) {
      if (pin !== this.rejectedPin) this.log.warn(`ignoring scenario switch: ${describe(err)}`);
      this.rejectedPin = pin;
    }
  }
}

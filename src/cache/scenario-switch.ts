import type Redis from "ioredis";
import { ShopstreamError } from "../errors.ts";
import { BASELINE, SCENARIOS, type Scenario, scenarioById } from "../domain/scenarios.ts";

// The live scenario switch (docs/design.md, "Scenarios and the volume curve"): a scenario id pinned
// in Redis by the live page or `PUT /scenario/:id`, which the producer follows within a second;
// cleared, the producer returns to its --scenario or the hour's preset. The one place that knows
// where the pin lives and what may be pinned.

export interface ScenarioControl {
  /** The pinned scenario's id, or null when none is pinned. */
  pinned(): Promise<string | null>;
  /** Pins a scenario; an unknown id is refused (nothing is written). */
  pin(id: string): Promise<Scenario>;
  clear(): Promise<void>;
}

export class ScenarioSwitch implements ScenarioControl {
  readonly key: string;

  constructor(
    private readonly redis: Redis,
    prefix = "",
  ) {
    this.key = `${prefix}control:scenario`;
  }

  pinned(): Promise<string | null> {
    return this.redis.get(this.key);
  }

  async pin(id: string): Promise<Scenario> {
    const scenario = resolveScenario(id);
    await this.redis.set(this.key, scenario.id);
    return scenario;
  }

  async clear(): Promise<void> {
    await this.redis.del(this.key);
  }
}

/** Every scenario that can be pinned, the baseline first. */
export function scenarioChoices(): { id: string; name: string }[] {
  return [BASELINE, ...SCENARIOS].map((s) => ({ id: s.id, name: s.name }));
}

/** The scenario an id names; an unknown id is a ShopstreamError listing the valid ones. */
export function resolveScenario(id: string): Scenario {
  try {
    return scenarioById(id);
  } catch (err) {
    throw new ShopstreamError((err as Error).message, { cause: err });
  }
}

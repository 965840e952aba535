// A consumer can stop fetching one partition without an error (a fetch whose answer never comes):
// the group looks healthy while that partition's lag grows. The watch compares, check after check,
// each assigned partition's fetch position with the end of its log; a position that has not moved
// since the last check, although the log then already held records past it, is a stall.

export interface FetchView {
  /** The next offset the consumer will fetch. */
  position: bigint;
  /** The log's end (high watermark) when looked at. */
  end: bigint;
}

export class StallWatch {
  #last = new Map<number, FetchView>();

  /** Takes this check's view of the partitions; returns those stalled since the previous check. */
  check(now: ReadonlyMap<number, FetchView>): number[] {
    const stalled: number[] = [];
    for (const [partition, view] of now) {
      const before = this.#last.get(partition);
      if (before && view.position === before.position && view.position < before.end) stalled.push(partition);
    }
    this.#last = new Map(now);
    return stalled;
  }

  /** Forgets what was seen: fetching was paused on purpose, or the consumer was reopened. */
  reset(): void {
    this.#last.clear();
  }
}

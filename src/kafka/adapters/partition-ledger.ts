// What the platformatic batch consumer knows of each partition of its topic (docs/design.md, "Kafka
// client"): whether this member owns it, and since which gain (a batch is owned while that gain
// holds); the offset it expects next from the stream; whether a rebalance is still to be resumed
// (the stream re-reads from the committed offset after every rebalance); and the commit past its
// last written batch. Pure bookkeeping: the adapter feeds it the group's joins and the stream's
// records, and asks it what to drop, what to commit and what stands behind.

/** A commit of one partition: the offset after the last written record, and its leader's epoch. */
export interface CommitOffset {
  topic: string;
  partition: number;
  offset: bigint;
  leaderEpoch: number;
}

/** What to do with a record the stream delivers. */
export type Arrival =
  /** Not ours (not assigned, or a copy of what was fetched already): dropped. */
  | "drop"
  /** The next record: taken. */
  | "take"
  /** Right after a rebalance, the stream skipped past the expected offset: the consumer must reopen. */
  | "skipped";

export class PartitionLedger {
  /** Partitions assigned now, each with the count of times it was gained. */
  readonly #assigned = new Map<number, number>();
  #gains = 0;
  /** Per partition: the offset expected next (what was fetched so far continues there). */
  readonly #expected = new Map<number, bigint>();
  /** Partitions whose first record after a rebalance is still to come. */
  readonly #resuming = new Set<number>();
  /** Per partition this member owns: the commit past its last written batch. */
  readonly #written = new Map<number, CommitOffset>();

  /**
   * The group assigned `now`: partitions lost are forgotten, partitions gained counted, every one
   * resumes. Returns the partitions gained (not owned right before).
   */
  assign(now: ReadonlySet<number>): number[] {
    for (const p of [...this.#assigned.keys()])
      if (!now.has(p)) {
        this.#assigned.delete(p);
        this.#expected.delete(p);
        this.#written.delete(p);
      }
    const gained: number[] = [];
    for (const p of now) {
      if (!this.#assigned.has(p)) {
        this.#assigned.set(p, ++this.#gains);
        gained.push(p);
      }
      this.#resuming.add(p);
    }
    return gained;
  }

  /** The gain under which `partition` is owned now; undefined when it is not assigned. */
  gainOf(partition: number): number | undefined {
    return this.#assigned.get(partition);
  }

  /** The offset expected next from `partition`, once a record of it was taken. */
  expected(partition: number): bigint | undefined {
    return this.#expected.get(partition);
  }

  /** The partitions assigned now. */
  partitions(): number[] {
    return [...this.#assigned.keys()];
  }

  /** Judges a record the stream delivered, and takes it into account when it is taken. */
  arrive(partition: number, offset: bigint): Arrival {
    if (!this.#assigned.has(partition)) return "drop";
    const next = this.#expected.get(partition);
    if (next !== undefined && offset < next) return "drop"; // a copy of what was fetched already
    if (next !== undefined && offset > next && this.#resuming.has(partition)) return "skipped";
    this.#resuming.delete(partition);
    this.#expected.set(partition, offset + 1n);
    return "take";
  }

  /** A batch ending at `offset` (with its leader's epoch) was written: the commit past it. */
  wrote(topic: string, partition: number, offset: bigint, leaderEpoch: number): CommitOffset {
    const commit = { topic, partition, offset: offset + 1n, leaderEpoch };
    this.#written.set(partition, commit);
    return commit;
  }

  /** The commits of the partitions still owned. */
  owned(): CommitOffset[] {
    return [...this.#written.values()].filter((o) => this.#assigned.has(o.partition));
  }

  /** Of `mine` (owned() when the group was asked), those the group's offsets (`committed`, by partition) stand behind. */
  static behind(mine: readonly CommitOffset[], committed: readonly (bigint | undefined)[]): CommitOffset[] {
    return mine.filter((o) => (committed[o.partition] ?? -1n) < o.offset);
  }

  /** The consumer reopened: it reads again from the committed offsets, owning nothing yet. */
  clear(): void {
    this.#assigned.clear();
    this.#expected.clear();
    this.#resuming.clear();
    this.#written.clear();
  }
}

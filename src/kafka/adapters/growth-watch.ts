// platformatic never rejoins its group when a topic gains partitions: the new ones would go unread
// until some other rebalance. As Java's consumer does, the group's leader keeps the partition count
// it assigned and looks again every KAFKA_METADATA_REFRESH_S; a count that grew calls for a rejoin,
// which rebalances the group with the leader's fresh metadata.

export class GrowthWatch {
  #assigned: number | null = null;
  #joins = 0;

  /** At each join: as the leader, `assignedWith` reads the count the assignment was computed with. */
  joined(isLeader: boolean, assignedWith: () => Promise<number | undefined>): void {
    const join = ++this.#joins;
    this.#assigned = null;
    if (!isLeader) return;
    assignedWith().then(
      (n) => {
        if (join === this.#joins && n !== undefined) this.#assigned = n;
      },
      () => undefined, // no count: nothing is compared until the next join
    );
  }

  /** The consumer closed: nothing to compare until it joins again. */
  reset(): void {
    this.#joins++;
    this.#assigned = null;
  }

  /** The count now, when it exceeds the one this member assigned as the leader; null otherwise. */
  async grown(count: () => Promise<number>): Promise<{ from: number; to: number } | null> {
    const from = this.#assigned;
    const join = this.#joins;
    if (from === null) return null;
    const to = await count();
    return join === this.#joins && to > from ? { from, to } : null;
  }
}

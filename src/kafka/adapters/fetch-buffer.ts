// Messages fetched and not yet handed to the handler. The stream is paused when the buffer holds
// `high` messages and resumed as soon as it holds fewer than `maxBatch`, whichever way it shrank:
// by a batch taken, or by a rebalance that took partitions away. (A stream left paused over an
// empty buffer never fetches again: nothing would ever take the next batch that resumes it.)

export interface Flow {
  pause(): void;
  resume(): void;
}

export class FetchBuffer<M extends { partition: number }> {
  #items: M[] = [];
  #paused = false;

  /** `flow` is the stream being read now (it changes when the consumer is reopened). */
  constructor(
    private readonly flow: () => Flow | null,
    private readonly maxBatch: number,
    private readonly high: number,
  ) {}

  get size(): number {
    return this.#items.length;
  }

  /** Whether fetching is paused on purpose because the buffer is full. */
  get paused(): boolean {
    return this.#paused;
  }

  push(message: M): void {
    this.#items.push(message);
    if (this.#items.length >= this.high && !this.#paused) {
      this.#paused = true;
      this.flow()?.pause();
    }
  }

  /** The oldest partition's messages, oldest first, up to maxBatch; empty when there are none. */
  take(): M[] {
    const first = this.#items[0];
    if (!first) return [];
    const batch: M[] = [];
    const rest: M[] = [];
    for (const m of this.#items) (m.partition === first.partition && batch.length < this.maxBatch ? batch : rest).push(m);
    this.#items = rest;
    this.#resumeIfRoom();
    return batch;
  }

  /** Keeps the messages of these partitions only (the others moved to another member). */
  keep(partitions: ReadonlySet<number>): void {
    this.#items = this.#items.filter((m) => partitions.has(m.partition));
    this.#resumeIfRoom();
  }

  /** Forgets everything: the stream it paused is gone, and a new one starts unpaused. */
  clear(): void {
    this.#items = [];
    this.#paused = false;
  }

  #resumeIfRoom(): void {
    if (this.#paused && this.#items.length < this.maxBatch) {
      this.#paused = false;
      this.flow()?.resume();
    }
  }
}

import type { CachedProduct, CachedUser } from "../cache/reload.ts";
import { generateProducts } from "../domain/fake.ts";
import type { OrderGenerator } from "../domain/order-generator.ts";
import type { Rng } from "../domain/random.ts";
import { encode } from "../kafka/envelope.ts";
import type { BatchingProducer } from "../kafka/batching-producer.ts";
import type { TopicNames } from "../kafka/topics.ts";

// The producer's two kinds of message, counted: an order from the generator, a new listing from
// the fake catalogue. Both wait for room in the producer's buffer first, so a Kafka outage slows
// generation and never drops a message; a stop that comes while waiting generates nothing more.

export class ShopPublisher {
  generated = 0;
  acknowledged = 0;
  /**
   * Messages Kafka never acknowledged: rejected for good (a topic gone or refused; the producer logs
   * why, summarised, and counts them in shopstream_produce_rejected_total), or still unacknowledged
   * when the cluster stayed away past the close timeout.
   */
  failed = 0;

  constructor(
    private readonly producer: BatchingProducer,
    private readonly names: TopicNames,
    private readonly generator: OrderGenerator<CachedUser, CachedProduct>,
    private readonly productRng: Rng,
    /** The producer instance: new listings' ids name it, as the generator's orders do. */
    private readonly instance = 1,
  ) {}

  /** "N orders generated, M acknowledged" (", F not sent" when some were rejected): the figures the logs and the tests read. */
  progress(): string {
    const failed = this.failed > 0 ? `, ${this.failed} not sent` : "";
    return `${this.generated} orders generated, ${this.acknowledged} acknowledged${failed}`;
  }

  async order(signal: AbortSignal): Promise<void> {
    await this.producer.whenRoom(signal);
    if (signal.aborted) return;
    const order = this.generator.next(new Date());
    this.generated++;
    this.producer.send(this.names.topic("orders"), { key: order.user_id, value: encode("orders", order) }).then(
      () => this.acknowledged++,
      () => this.failed++,
    );
  }

  async product(signal: AbortSignal): Promise<void> {
    await this.producer.whenRoom(signal);
    if (signal.aborted) return;
    const now = new Date();
    const [product] = generateProducts(this.productRng, 1, now, { createdAt: now, instance: this.instance });
    if (product)
      this.producer.send(this.names.topic("products"), { key: product.id, value: encode("products", product) }).catch(() => this.failed++);
  }
}

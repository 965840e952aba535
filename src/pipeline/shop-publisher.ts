import type { CachedProduct, CachedUser } from "../cache/reload.ts";
import type { Clickstream, OrderSessions } from "../domain/clickstream.ts";
import { generateProducts } from "../domain/fake.ts";
import type { OrderGenerator } from "../domain/order-generator.ts";
import type { Rng } from "../domain/random.ts";
import type { Order } from "../domain/types.ts";
import type { BatchingProducer } from "../kafka/batching-producer.ts";
import type { RecordSender } from "./chaos-sender.ts";

// The producer's messages, counted: an order from the generator (with --clicks, the sessions that
// led to it, and the customers who signed up in them), a new listing from the fake catalogue. Each
// waits for room in the producer's buffer first, so a Kafka outage slows generation and never
// drops a message; a stop that comes while waiting generates nothing more.

/** With --clicks: the sessions behind each order, drawn from a stream of their own. */
export interface OrderClicks {
  stream: Clickstream<CachedProduct, CachedUser>;
  rng: Rng;
}

export class ShopPublisher {
  generated = 0;
  acknowledged = 0;
  /**
   * Messages Kafka never acknowledged: rejected for good (a topic gone or refused; the producer logs
   * why, summarised, and counts them in shopstream_produce_rejected_total), or still unacknowledged
   * when the cluster stayed away past the close timeout.
   */
  failed = 0;
  /** With --clicks: page events and sessions generated, and the clicks and sign-ups Kafka never acknowledged. */
  clicks = 0;
  sessions = 0;
  clicksFailed = 0;

  constructor(
    /** For room in its buffer: `sender` puts the records on it. */
    private readonly producer: BatchingProducer,
    /** How records go out: in the configured format, plainly or with a chaos profile's faults. */
    private readonly sender: RecordSender,
    private readonly generator: OrderGenerator<CachedUser, CachedProduct>,
    private readonly productRng: Rng,
    /** The producer instance: new listings' ids name it, as the generator's orders do. */
    private readonly instance = 1,
    private readonly orderClicks?: OrderClicks,
  ) {}

  /** "N orders generated, M acknowledged" (", F not sent" when some were rejected): the figures the logs and the tests read. */
  progress(): string {
    const failed = this.failed > 0 ? `, ${this.failed} not sent` : "";
    const clicksFailed = this.clicksFailed > 0 ? ` (${this.clicksFailed} clicks and sign-ups not sent)` : "";
    const clicks = this.orderClicks ? `; ${this.clicks} clicks in ${this.sessions} sessions${clicksFailed}` : "";
    return `${this.generated} orders generated, ${this.acknowledged} acknowledged${failed}${clicks}`;
  }

  async order(signal: AbortSignal): Promise<void> {
    await this.producer.whenRoom(signal);
    if (signal.aborted) return;
    const drawn = this.generator.next(new Date());
    this.generated++;
    // with --clicks the order names the session it was placed in (version 3 of its schema carries it)
    const made = this.orderClicks && this.sessionsOf(drawn, this.orderClicks);
    const order = made ? { ...drawn, session_id: made.purchaseSession } : drawn;
    this.sender.send("orders", order.user_id, order).then(
      () => this.acknowledged++,
      () => this.failed++,
    );
    if (made) this.sendSessions(made);
  }

  private sessionsOf(order: Order, { stream, rng }: OrderClicks): OrderSessions {
    const made = stream.forOrder(rng, order, this.generator.scenario);
    this.clicks += made.clicks.length;
    this.sessions += made.sessions;
    return made;
  }

  /** An order's sessions, each event keyed by its session (so a session's events stay in order); new customers first. */
  private sendSessions(made: OrderSessions): void {
    for (const user of made.signUps) this.sender.send("users", user.id, user).catch(() => this.clicksFailed++);
    for (const click of made.clicks) this.sender.send("clicks", click.session_id, click).catch(() => this.clicksFailed++);
  }

  async product(signal: AbortSignal): Promise<void> {
    await this.producer.whenRoom(signal);
    if (signal.aborted) return;
    const now = new Date();
    const [product] = generateProducts(this.productRng, 1, now, { createdAt: now, instance: this.instance });
    if (product) this.sender.send("products", product.id, product).catch(() => this.failed++);
  }
}

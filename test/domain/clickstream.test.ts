import { describe, expect, test } from "bun:test";
import { categoryByCode } from "../../src/domain/categories.ts";
import {
  type Click,
  Clickstream,
  conversionRate,
  DEVICES,
  FUNNEL_STEPS,
  type FunnelStage,
  stageWithoutPurchase,
} from "../../src/domain/clickstream.ts";
import { generateProducts, generateUsers } from "../../src/domain/fake.ts";
import { OrderGenerator } from "../../src/domain/order-generator.ts";
import { Rng } from "../../src/domain/random.ts";
import { BASELINE, scenarioById } from "../../src/domain/scenarios.ts";
import { seoulTime } from "../../src/domain/seoul-time.ts";
import type { Order } from "../../src/domain/types.ts";
import { wireOf } from "../../src/kafka/envelope.ts";

// The sessions behind the orders (docs/design.md, "Clickstream"): seeded, tied to their orders,
// and with the funnel the design states, measured over many thousands of drawn sessions.

const NOW = seoulTime(2026, 3, 10, 14);
const users = generateUsers(new Rng("cs-users"), 500, NOW);
const products = generateProducts(new Rng("cs-products"), 800, NOW);

/** `n` orders of the live generator, spread over a day's hours, with the sessions behind each. */
function draw(seed: string, n: number, scenario = BASELINE) {
  const gen = new OrderGenerator(new Rng(`${seed}:orders`), 200);
  gen.refresh(users, products, NOW, scenario);
  const stream = new Clickstream();
  stream.setCatalogue(users, products);
  const rng = new Rng(`${seed}:clicks`);
  return Array.from({ length: n }, (_, i) => {
    const order = gen.next(new Date(NOW.getTime() + (i % 24) * 3_600_000));
    return { order, ...stream.forOrder(rng, order, scenario) };
  });
}

function bySession(clicks: Click[]): Map<string, Click[]> {
  const out = new Map<string, Click[]>();
  for (const c of clicks) out.set(c.session_id, [...(out.get(c.session_id) ?? []), c]);
  return out;
}

const STAGE: Record<string, FunnelStage> = { product_view: 1, add_to_cart: 2, remove_from_cart: 2, checkout: 3, purchase: 4 };
const reached = (events: Click[]) => Math.max(0, ...events.map((c) => STAGE[c.type] ?? 0)) as FunnelStage;

describe("the sessions behind an order", () => {
  const drawn = draw("cs", 3000);

  test("the same seed draws the same clicks; another seed others", () => {
    expect(draw("cs", 50)).toEqual(drawn.slice(0, 50));
    expect(draw("cs-other", 50).map((d) => d.clicks.length)).not.toEqual(drawn.slice(0, 50).map((d) => d.clicks.length));
  });

  test("each order has one session that buys it: its buyer, its category, its product, ending in the purchase at the order's time", () => {
    for (const { order, clicks } of drawn) {
      const purchases = clicks.filter((c) => c.type === "purchase");
      expect(purchases.map((c) => c.order_id)).toEqual([order.id]);
      const purchase = purchases[0] as Click;
      const session = bySession(clicks).get(purchase.session_id) as Click[];
      expect(session.at(-1)).toBe(purchase);
      expect(purchase.at.getTime()).toBe(order.created_at.getTime());
      expect(new Set(session.map((c) => c.user_id))).toEqual(new Set([order.user_id]));
      expect(session[0]?.category).toBe(order.category);
      expect(session.filter((c) => c.type === "add_to_cart").at(-1)?.product_id).toBe(order.product_id);
      expect(session.map((c) => c.type)).toContain("checkout");
    }
  });

  test("every event is one the consumers accept, in its session's order, never after the order it leads to", () => {
    const seen = new Set<string>();
    for (const { order, clicks } of drawn.slice(0, 500)) {
      for (const [id, events] of bySession(clicks)) {
        expect(seen.has(id)).toBe(false);
        seen.add(id);
        expect(events.map((c) => c.seq)).toEqual(events.map((_, i) => i));
        expect(events[0]?.type).toBe("session_start");
        for (let i = 1; i < events.length; i++) expect(events[i]!.at.getTime()).toBeGreaterThan(events[i - 1]!.at.getTime());
        expect(events.at(-1)!.at.getTime()).toBeLessThanOrEqual(order.created_at.getTime());
        for (const c of events) {
          expect(c.id).toBe(`${id}/${c.seq}`);
          expect(() => wireOf("clicks", c, c.at)).not.toThrow();
        }
      }
    }
  });

  test("anonymous visitors who sign up at checkout bring their user record; their clicks before it are anonymous", () => {
    const signUps = drawn.flatMap((d) => d.signUps);
    expect(signUps.length).toBeGreaterThan(20);
    const clicks = drawn.flatMap((d) => d.clicks);
    const sessions = bySession(clicks);
    for (const user of signUps) {
      const event = clicks.find((c) => c.type === "sign_up" && c.user_id === user.id) as Click;
      expect(event).toBeDefined();
      expect(() => wireOf("users", user)).not.toThrow();
      const session = sessions.get(event.session_id) as Click[];
      expect(session.slice(0, event.seq).every((c) => c.user_id === null && c.region === null)).toBe(true);
      expect(session.slice(event.seq).every((c) => c.user_id === user.id && c.region === user.region)).toBe(true);
      expect(reached(session)).toBe(3);
    }
  });
});

describe("the funnel, as docs/design.md states it", () => {
  const drawn = draw("funnel", 6000);
  const sessions = [...bySession(drawn.flatMap((d) => d.clicks)).values()];
  const share = (pick: (s: Click[]) => boolean, of: (s: Click[]) => boolean = () => true) =>
    sessions.filter((s) => of(s) && pick(s)).length / sessions.filter(of).length;

  test("20–50 page events for every order, and 5–12 % of sessions end in a purchase", () => {
    const events = drawn.reduce((n, d) => n + d.clicks.length, 0);
    expect(events / drawn.length).toBeGreaterThan(20);
    expect(events / drawn.length).toBeLessThan(50);
    const conversion = drawn.length / sessions.length;
    expect(conversion).toBeGreaterThan(0.05);
    expect(conversion).toBeLessThan(0.12);
  });

  test("each step's rate is the stated one; the add-to-cart step carries the device, category and hour", () => {
    const viewed = share((s) => reached(s) >= 1);
    expect(viewed).toBeGreaterThan(FUNNEL_STEPS.view - 0.05);
    expect(viewed).toBeLessThan(FUNNEL_STEPS.view + 0.05);
    // beyond the cart the steps are the stated ones (the purchase side includes the sessions that bought)
    const checkout = share(
      (s) => reached(s) >= 3,
      (s) => reached(s) >= 2,
    );
    expect(checkout).toBeGreaterThan(FUNNEL_STEPS.checkout - 0.05);
    expect(checkout).toBeLessThan(FUNNEL_STEPS.checkout + 0.05);
    const bought = share(
      (s) => reached(s) === 4,
      (s) => reached(s) >= 3,
    );
    expect(bought).toBeGreaterThan(FUNNEL_STEPS.purchase - 0.05);
    expect(bought).toBeLessThan(FUNNEL_STEPS.purchase + 0.05);
    // the app converts best, a phone's browser worst, measured and as the model says
    const conv = (device: string) =>
      share(
        (s) => reached(s) === 4,
        (s) => s[0]?.device === device,
      );
    expect(conv("app")).toBeGreaterThan(conv("desktop"));
    expect(conv("desktop")).toBeGreaterThan(conv("mobile_web"));
    const fashion = categoryByCode(products[0]!.category);
    const [app, web, desk] = DEVICES.map((d) => conversionRate(d, fashion, 14, BASELINE));
    expect(app! > desk! && desk! > web!).toBe(true);
    // late at night a session buys less often than in the evening
    const hourOf = (s: Click[]) => (s.at(-1)!.at.getUTCHours() + 9) % 24;
    const night = share(
      (s) => reached(s) === 4,
      (s) => hourOf(s) < 6,
    );
    const evening = share(
      (s) => reached(s) === 4,
      (s) => hourOf(s) >= 18,
    );
    expect(evening).toBeGreaterThan(night);
  });

  test("a sale converts more than an ordinary day", () => {
    const sale = scenarioById("black_friday");
    const code = products[0]!.category;
    expect(conversionRate("app", categoryByCode(code), 20, sale)).toBeGreaterThan(
      conversionRate("app", categoryByCode(code), 20, BASELINE),
    );
  });

  test("a session that does not buy never reaches the purchase, and stops at each step as often as the funnel says", () => {
    const rng = new Rng("stages");
    const stages = Array.from({ length: 20_000 }, () => stageWithoutPurchase(rng, 0.3));
    expect(stages.includes(4 as FunnelStage)).toBe(false);
    const landed = stages.filter((s) => s === 0).length / stages.length;
    // P(stop at landing | no purchase) = (1 − view) / (1 − view × cart × checkout × purchase)
    const expected = (1 - FUNNEL_STEPS.view) / (1 - FUNNEL_STEPS.view * 0.3 * FUNNEL_STEPS.checkout * FUNNEL_STEPS.purchase);
    expect(Math.abs(landed - expected)).toBeLessThan(0.02);
  });
});

test("an order in a category the cache holds no product of still gets its session, with its own product", () => {
  const stream = new Clickstream();
  stream.setCatalogue([], []);
  const order = draw("bare", 1)[0]!.order as Order;
  const { clicks } = stream.forOrder(new Rng("bare"), order, BASELINE);
  expect(clicks.filter((c) => c.type === "product_view").map((c) => c.product_id)).toContain(order.product_id);
  // nobody cached to browse signed in: every other session is anonymous
  const others = clicks.filter((c) => c.session_id !== clicks.find((x) => x.type === "purchase")!.session_id);
  expect(others.every((c) => c.user_id === null || clicks.some((x) => x.type === "sign_up" && x.user_id === c.user_id))).toBe(true);
});

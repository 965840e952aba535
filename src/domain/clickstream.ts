import { type Category, CATEGORIES, categoryByCode } from "./categories.ts";
import { newId } from "./ids.ts";
import { PRODUCT_WORDS } from "./product-words.ts";
import type { Rng } from "./random.ts";
import type { Scenario } from "./scenarios.ts";
import { seoulHour } from "./seoul-time.ts";
import type { Order, User } from "./types.ts";
import { generateUsers } from "./users.ts";

// The clicks behind the orders (docs/design.md, "Clickstream"): for every order, the session in
// which its buyer browsed the order's category and bought, and the sessions that browsed the same
// category and left, as many as the funnel's conversion rate says. A session's funnel (product
// view → cart → checkout → purchase) depends on its device, the category's price, the hour and the
// scenario. Pure: the same rng, order and catalogue give the same clicks.

export type ClickType =
  | "session_start"
  | "page_view"
  | "search"
  | "product_view"
  | "add_to_cart"
  | "remove_from_cart"
  | "sign_up"
  | "checkout"
  | "purchase";
export const CLICK_TYPES: readonly ClickType[] = [
  "session_start",
  "page_view",
  "search",
  "product_view",
  "add_to_cart",
  "remove_from_cart",
  "sign_up",
  "checkout",
  "purchase",
];
export type Device = "app" | "mobile_web" | "desktop";
export const DEVICES: readonly Device[] = ["app", "mobile_web", "desktop"];
export type Channel = "direct" | "search" | "social" | "ads" | "email" | "push";
export const CHANNELS: readonly Channel[] = ["direct", "search", "social", "ads", "email", "push"];

/** One page event, as the clicks topic carries it (keyed by its session). */
export interface Click {
  /** `<session id>/<seq>`: the event id, the same on every replay. */
  id: string;
  session_id: string;
  /** 0 for the session's first event, then in the order they happened. */
  seq: number;
  type: ClickType;
  at: Date;
  /** The signed-in customer; null while anonymous (until a sign_up, whose event carries the new id). */
  user_id: string | null;
  device: Device;
  channel: Channel;
  /** The customer's region; null for an anonymous visitor. */
  region: string | null;
  page: string;
  category: string | null;
  product_id: string | null;
  /** A search's words, in Korean, from the catalogue's own. */
  query: string | null;
  /** On the purchase event only: the order the session ended in. */
  order_id: string | null;
}

/** How far a session went: 0 landed only, 1 viewed a product, 2 added to the cart, 3 checked out, 4 bought. */
export type FunnelStage = 0 | 1 | 2 | 3 | 4;

/** The funnel stage each kind of event marks. */
export const STAGE_OF: Readonly<Record<ClickType, FunnelStage>> = {
  session_start: 0,
  page_view: 0,
  search: 0,
  sign_up: 0,
  product_view: 1,
  add_to_cart: 2,
  remove_from_cart: 2,
  checkout: 3,
  purchase: 4,
};

/** A session as the sessions table holds it: folded from its events. */
export interface Session {
  id: string;
  user_id: string | null;
  device: Device;
  channel: Channel;
  region: string | null;
  category: string | null;
  started_at: Date;
  ended_at: Date;
  events: number;
  reached: FunnelStage;
  order_id: string | null;
}

/**
 * The sessions of a run of clicks (each session's events together, as forOrder makes them), folded
 * as the clicks writer folds them in PostgreSQL: the last user and region seen, the landing
 * category, first and last time, events, the furthest stage, the order bought.
 */
export function foldSessions(clicks: readonly Click[]): Session[] {
  const out: Session[] = [];
  let s: Session | undefined;
  for (const c of clicks) {
    if (s?.id !== c.session_id) {
      s = {
        id: c.session_id,
        user_id: null,
        device: c.device,
        channel: c.channel,
        region: null,
        category: null,
        started_at: c.at,
        ended_at: c.at,
        events: 0,
        reached: 0,
        order_id: null,
      };
      out.push(s);
    }
    s.user_id = c.user_id ?? s.user_id;
    s.region = c.region ?? s.region;
    if (c.type === "session_start") s.category = c.category;
    if (c.at < s.started_at) s.started_at = c.at;
    if (c.at > s.ended_at) s.ended_at = c.at;
    s.events++;
    s.reached = Math.max(s.reached, STAGE_OF[c.type]) as FunnelStage;
    s.order_id = c.order_id ?? s.order_id;
  }
  return out;
}

// The funnel's step rates on a desktop, in an ordinary hour, for a mid-priced category (the
// reasoning: docs/design.md, "Clickstream"). The product of the four is a desktop session's chance to buy.
export const FUNNEL_STEPS = { view: 0.65, cart: 0.3, checkout: 0.55, purchase: 0.75 } as const;
/** Share of sessions per device, and the factor on its add-to-cart step (an app is signed in, a phone's browser is not). */
export const DEVICE_MIX: Readonly<Record<Device, { share: number; cart: number; dwell: number }>> = {
  app: { share: 0.45, cart: 1.3, dwell: 0.8 },
  mobile_web: { share: 0.3, cart: 0.75, dwell: 1 },
  desktop: { share: 0.25, cart: 1, dwell: 1.25 },
};
const CHANNEL_SHARES: readonly number[] = [0.3, 0.25, 0.12, 0.15, 0.06, 0.12];
/** Share of the sessions that leave without buying in which the visitor never signed in. */
export const ANONYMOUS_SHARE = 0.4;
/** An anonymous visitor who reaches checkout meets the login wall: this share signs up, the rest leave. */
export const SIGN_UP_AT_CHECKOUT = 0.25;

/** The add-to-cart factor of an hour (Seoul): late night browses more and buys less, the evening buys most. */
export function hourFactor(hour: number): number {
  if (hour < 6) return 0.8;
  if (hour < 12) return 0.95;
  if (hour < 18) return 1;
  return 1.1;
}

/** The add-to-cart factor of a category: an everyday price converts better than a considered purchase. */
export function categoryFactor(category: Category): number {
  if (category.priceMax <= 50_000) return 1.15;
  if (category.priceMin >= 100_000) return 0.75;
  return 1;
}

/** A scenario's pull on the cart: a sale converts more, a quiet preset less (bounded). */
export function scenarioFactor(scenario: Scenario): number {
  return Math.min(1.3, Math.max(0.8, Math.sqrt(scenario.volume)));
}

/** The add-to-cart rate of a session with this device, category, hour and scenario. */
export function cartRate(device: Device, category: Category, hour: number, scenario: Scenario): number {
  return Math.min(
    0.9,
    FUNNEL_STEPS.cart * DEVICE_MIX[device].cart * categoryFactor(category) * hourFactor(hour) * scenarioFactor(scenario),
  );
}

/** A session's chance to end in a purchase. */
export function conversionRate(device: Device, category: Category, hour: number, scenario: Scenario): number {
  return FUNNEL_STEPS.view * cartRate(device, category, hour, scenario) * FUNNEL_STEPS.checkout * FUNNEL_STEPS.purchase;
}

export interface ClickProduct {
  id: string;
  category: string;
}

export interface ClickUser {
  id: string;
  region: string;
}

/** The clicks of an order's sessions, and the customers who signed up in them (their user records are published too). */
export interface OrderSessions {
  /** The session the order was placed in: the first of `clicks`. */
  purchaseSession: string;
  clicks: Click[];
  sessions: number;
  signUps: User[];
}

export class Clickstream<P extends ClickProduct = ClickProduct, U extends ClickUser = ClickUser> {
  private byCategory = new Map<string, P[]>();
  private users: readonly U[] = [];

  /** `instance`: the producer instance whose session ids the clicks carry (src/domain/ids.ts). */
  constructor(private readonly instance = 1) {}

  /** The products a session may view and the customers who may browse signed in: the producer's cache. */
  setCatalogue(users: readonly U[], products: readonly P[]): void {
    this.users = users;
    this.byCategory = new Map();
    for (const p of products) {
      const list = this.byCategory.get(p.category);
      if (list) list.push(p);
      else this.byCategory.set(p.category, [p]);
    }
  }

  /**
   * The sessions that lead to `order`: its own, ending in the purchase at the order's time, then
   * as many that browsed its category and left as the conversion rate implies (geometric: the
   * sessions a Bernoulli process has before its success), each ending within two minutes before it.
   * `signUps: false`: the visitors at the login wall leave (the historical year brings its planned
   * sign-ups in through signUpSession instead).
   */
  forOrder(rng: Rng, order: Order, scenario: Scenario, opts: { signUps?: boolean } = {}): OrderSessions {
    const category = categoryByCode(order.category);
    const endMs = order.created_at.getTime();
    const hour = seoulHour(order.created_at);
    const conversion = (d: Device) => conversionRate(d, category, hour, scenario);
    const buyerDevice = DEVICES[rng.weightedIndex(DEVICES.map((d) => DEVICE_MIX[d].share * conversion(d)))] as Device;
    const clicks = this.session(rng, {
      device: buyerDevice,
      category,
      stage: 4,
      user: { id: order.user_id, region: order.user_region },
      product_id: order.product_id,
      order_id: order.id,
      endMs,
    });
    const mean = DEVICES.reduce((s, d) => s + DEVICE_MIX[d].share * conversion(d), 0);
    const signUps: User[] = [];
    let sessions = 1;
    const leaveWeights = DEVICES.map((d) => DEVICE_MIX[d].share * (1 - conversion(d)));
    while (!rng.chance(mean)) {
      sessions++;
      const device = DEVICES[rng.weightedIndex(leaveWeights)] as Device;
      const stage = stageWithoutPurchase(rng, cartRate(device, category, hour, scenario));
      const anonymous = this.users.length === 0 || rng.chance(ANONYMOUS_SHARE);
      const sessionEnd = endMs - Math.floor(rng.next() * 120_000);
      let user: ClickUser | null = anonymous ? null : rng.pick(this.users);
      let signUpAt: number | undefined;
      if (anonymous && stage === 3 && opts.signUps !== false && rng.chance(SIGN_UP_AT_CHECKOUT)) {
        // created at the session's end: its sign_up event carries the new customer's id
        const [created] = generateUsers(rng, 1, new Date(sessionEnd), { createdAt: new Date(sessionEnd) });
        if (created) {
          signUps.push(created);
          user = { id: created.id, region: created.region };
          signUpAt = sessionEnd;
        }
      }
      clicks.push(...this.session(rng, { device, category, stage, user, signUpAt, endMs: sessionEnd }));
    }
    return { purchaseSession: (clicks[0] as Click).session_id, clicks, sessions, signUps };
  }

  /**
   * The session in which a visitor became `user`: anonymous, they browse a category, fill a cart and
   * sign up at the moment the account was created, the session's last event.
   */
  signUpSession(rng: Rng, user: { id: string; region: string; created_at: Date }): Click[] {
    const device = DEVICES[rng.weightedIndex(DEVICES.map((d) => DEVICE_MIX[d].share))] as Device;
    // a category by its order weight, among those the catalogue offers
    const codes = this.byCategory.size ? [...this.byCategory.keys()] : CATEGORIES.map((c) => c.code);
    const category = categoryByCode(codes[rng.weightedIndex(codes.map((c) => categoryByCode(c).orderWeight))] as string);
    const endMs = user.created_at.getTime();
    return this.session(rng, { device, category, stage: 2, user, signUpAt: endMs, endMs });
  }

  /** One session's events, the last at `endMs`, each before it by the dwell time of the page that follows. */
  private session(rng: Rng, s: SessionPlan): Click[] {
    const steps: Step[] = [];
    const code = s.category.code;
    const products = this.byCategory.get(code) ?? [];
    const channel = CHANNELS[rng.weightedIndex(CHANNEL_SHARES)] as Channel;
    steps.push({ type: "session_start", page: channel === "direct" || channel === "push" ? "/" : `/category/${code}` });
    if (rng.chance(0.4)) steps.push({ type: "page_view", page: rng.pick(PAGES) });
    if (s.stage >= 1) {
      if (rng.chance(0.4)) {
        const query = searchQuery(rng, code);
        steps.push({ type: "search", page: `/search?q=${encodeURIComponent(query)}`, query });
      }
      const viewed: string[] = [];
      for (let n = 1 + Math.min(5, Math.floor(-Math.log(1 - rng.next()))); n > 0; n--)
        if (products.length) viewed.push(rng.pick(products).id);
      if (s.product_id) viewed.push(s.product_id);
      for (const id of viewed) steps.push({ type: "product_view", page: `/product/${id}`, product_id: id });
      const chosen = s.product_id ?? viewed.at(-1) ?? null;
      if (s.stage >= 2 && chosen) {
        const other = viewed.find((id) => id !== chosen);
        if (other && rng.chance(0.15)) {
          steps.push({ type: "add_to_cart", page: "/cart", product_id: other });
          steps.push({ type: "remove_from_cart", page: "/cart", product_id: other });
        }
        steps.push({ type: "add_to_cart", page: "/cart", product_id: chosen });
      }
      if (s.signUpAt !== undefined) steps.push({ type: "sign_up", page: "/signup" });
      if (s.stage >= 3) steps.push({ type: "checkout", page: "/checkout" });
      if (s.stage >= 4 && s.order_id) steps.push({ type: "purchase", page: `/order/${s.order_id}`, order_id: s.order_id });
    }
    // times backwards from the end: each page is left after its own dwell
    const times = new Array<number>(steps.length);
    let t = s.endMs;
    for (let i = steps.length - 1; i >= 0; i--) {
      times[i] = t;
      const before = steps[i - 1];
      if (before) t -= Math.max(1000, Math.round(dwellS(rng, before.type) * DEVICE_MIX[s.device].dwell * 1000));
    }
    const sessionId = newId("S_", rng, times[0] as number, this.instance);
    let signedIn = s.signUpAt === undefined ? (s.user?.id ?? null) : null;
    return steps.map((step, seq) => {
      if (step.type === "sign_up") signedIn = s.user?.id ?? null;
      return {
        id: `${sessionId}/${seq}`,
        session_id: sessionId,
        seq,
        type: step.type,
        at: new Date(times[seq] as number),
        user_id: signedIn,
        device: s.device,
        channel,
        region: signedIn ? (s.user?.region ?? null) : null,
        page: step.page,
        category: step.type === "session_start" || step.product_id ? code : null,
        product_id: step.product_id ?? null,
        query: step.query ?? null,
        order_id: step.order_id ?? null,
      };
    });
  }
}

interface SessionPlan {
  device: Device;
  category: Category;
  stage: FunnelStage;
  user: ClickUser | null;
  /** The order's product and id, for the session that buys. */
  product_id?: string;
  order_id?: string;
  /** When an anonymous visitor signed up (then `user` is the new customer). */
  signUpAt?: number;
  endMs: number;
}

interface Step {
  type: ClickType;
  page: string;
  product_id?: string;
  query?: string;
  order_id?: string;
}

const PAGES = ["/", "/best", "/deals", "/events", "/new"] as const;

/** How far a session that does not buy goes: the funnel walked step by step, a walk that reaches the purchase drawn again. */
export function stageWithoutPurchase(rng: Rng, cart: number): FunnelStage {
  for (;;) {
    if (!rng.chance(FUNNEL_STEPS.view)) return 0;
    if (!rng.chance(cart)) return 1;
    if (!rng.chance(FUNNEL_STEPS.checkout)) return 2;
    if (!rng.chance(FUNNEL_STEPS.purchase)) return 3;
  }
}

// median seconds on a page before the next event, by the page's kind (log-normal around it)
const DWELL_S: Readonly<Record<ClickType, number>> = {
  session_start: 8,
  page_view: 15,
  search: 10,
  product_view: 35,
  add_to_cart: 6,
  remove_from_cart: 5,
  sign_up: 50,
  checkout: 45,
  purchase: 30,
};

function dwellS(rng: Rng, type: ClickType): number {
  const u = 1 - rng.next();
  const v = rng.next();
  const normal = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  return DWELL_S[type] * Math.exp(0.6 * normal);
}

/** A search as a shopper types it: an adjective and a noun of the category, or a brand and a noun. */
function searchQuery(rng: Rng, code: string): string {
  const words = PRODUCT_WORDS[code];
  const category = CATEGORIES.find((c) => c.code === code);
  if (!words || !category) return code;
  const noun = rng.pick(words.items).noun;
  return rng.chance(0.5) ? `${rng.pick(words.adjectives)} ${noun}` : `${rng.pick(category.brands)} ${noun}`;
}

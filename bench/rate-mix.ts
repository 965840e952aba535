import { parseArgs } from "node:util";
import { gradeFor } from "../src/domain/grades.ts";
import { OrderGenerator, simulatedDay } from "../src/domain/order-generator.ts";
import { generateProducts, generateUsers } from "../src/domain/fake.ts";
import { Rng } from "../src/domain/random.ts";
import { COUNTED_STATUSES } from "../src/domain/order-status.ts";
import type { Grade, OrderStatus } from "../src/domain/types.ts";

// `bun run bench/rate-mix.ts [--customers 10000] [--orders 60000] [--seed rate-mix]`: the --rate
// buyer draw replayed in memory, as the producer runs it (docs/design.md, "Realism at scale"): the
// shop's clock at 3,000 orders/s, a cache generation every 5,000 orders carrying what was sold and
// the grades the rule gives over the latest six simulated months, as the grade-updater would. It
// prints the draw's CPU per order and the grade mix it ends with, against the targets. No Kafka, no
// database: the decision alone, so two checkouts compare side by side.

const { values: flags } = parseArgs({
  args: Bun.argv.slice(2),
  options: {
    customers: { type: "string", default: "10000" },
    orders: { type: "string", default: "60000" },
    seed: { type: "string", default: "rate-mix" },
  },
});
const customers = Number(flags.customers);
const count = Number(flags.orders);
for (const [name, n] of [
  ["customers", customers],
  ["orders", count],
] as const) {
  if (!(Number.isInteger(n) && n > 0)) {
    console.error(`--${name} must be a whole number > 0, got ${flags[name]}`);
    process.exit(2);
  }
}

const RATE = 3000;
const RELOAD_EVERY = 5000;
const start = Date.parse("2026-03-10T03:00:00Z"); // noon in Seoul: no hour-tied preset, as under --rate
const rng = new Rng(flags.seed);
const users = generateUsers(rng.fork("users"), customers, new Date(start)).map((u) => ({
  ...u,
  created_at: u.created_at.toISOString(),
  last_ordered_at: null as string | null,
}));
const products = generateProducts(rng.fork("products"), 1000, new Date(start));
const generator = new OrderGenerator(rng.fork("orders"), 200, { ordersPerSecond: RATE });
const windowOrders = Math.round(6 * (365.25 / 12) * simulatedDay(customers, RATE).orders);
const sold: { userId: string; amount: number; status: OrderStatus }[] = [];

/** The grade rule over the latest six simulated months of orders, as the grade-updater runs it. */
function gradesNow(): Map<string, Grade> {
  const totals = new Map<string, { amount: number; n: number }>();
  for (const o of sold.slice(-windowOrders)) {
    if (!COUNTED_STATUSES.includes(o.status)) continue; // all PAID here (no lifecycle), as the rule counts them
    const t = totals.get(o.userId) ?? { amount: 0, n: 0 };
    t.amount += o.amount;
    t.n++;
    totals.set(o.userId, t);
  }
  return new Map(users.map((u) => [u.id, gradeFor(totals.get(u.id)?.amount ?? 0, totals.get(u.id)?.n ?? 0)]));
}

const byId = new Map(users.map((u) => [u.id, u]));
let drawMs = 0;
for (let i = 0; i < count; i++) {
  const at = new Date(start + (i * 1000) / RATE);
  if (i % RELOAD_EVERY === 0) {
    const grades = gradesNow();
    for (const u of users) u.grade = grades.get(u.id) as Grade;
    const t0 = performance.now();
    generator.refresh(users, products, at);
    drawMs += performance.now() - t0;
  }
  const t0 = performance.now();
  const order = generator.next(at);
  drawMs += performance.now() - t0;
  sold.push({ userId: order.user_id, amount: order.total_amount, status: order.status });
  const buyer = byId.get(order.user_id);
  if (buyer) buyer.last_ordered_at = at.toISOString();
}

const mix = { BRONZE: 0, SILVER: 0, GOLD: 0, VIP: 0 };
for (const g of gradesNow().values()) mix[g]++;
const pct = (n: number) => `${((n / customers) * 100).toFixed(1)} %`;
console.log(`--rate draw: ${customers} customers, ${count} orders, seed ${flags.seed}`);
console.log(`draw CPU: ${((drawMs * 1000) / count).toFixed(2)} µs/order (OrderGenerator.next and refresh per cache generation)`);
console.log(`grades over the latest ${windowOrders} orders (six simulated months):`);
console.log(
  `  BRONZE ${pct(mix.BRONZE)}, SILVER ${pct(mix.SILVER)} (15–30 %), GOLD ${pct(mix.GOLD)} (3–10 %), VIP ${pct(mix.VIP)} (0.5–3 %)`,
);
console.log(`  spacing overruns: ${generator.spacingOverruns}`);

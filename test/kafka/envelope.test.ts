import { describe, expect, test } from "bun:test";
import { generateProducts, generateUsers } from "../../src/domain/fake.ts";
import { OrderGenerator } from "../../src/domain/order-generator.ts";
import { Rng } from "../../src/domain/random.ts";
import { SCENARIOS } from "../../src/domain/scenarios.ts";
import type { Order } from "../../src/domain/types.ts";
import { InvalidEvent } from "../../src/kafka/contract.ts";
import { decode, encode } from "../../src/kafka/envelope.ts";

// encode() checks a new order with plain checks instead of the schema's walk (the producer's hot
// path). Here the two are held equal: every drawn order passes both, and every broken order gets the
// same verdict from encode() as the consumers' decode() gives the JSON it would have published.

const NOW = new Date("2026-03-10T11:00:00Z");
const users = generateUsers(new Rng("env-users"), 500, NOW);
const products = generateProducts(new Rng("env-products"), 1000, NOW);

function drawn(n: number, seed: string): Order[] {
  const out: Order[] = [];
  for (const scenario of SCENARIOS) {
    const gen = new OrderGenerator(new Rng(`${seed}:${scenario.id}`), 200);
    gen.refresh(users, products, NOW, scenario);
    for (let i = 0; i < Math.ceil(n / SCENARIOS.length); i++) out.push(gen.next(NOW));
  }
  return out;
}

/** The consumer's verdict on what encode() would have published, without encode's own checks: the failing path, or null. */
function consumerVerdict(o: object & { id?: unknown }, occurredAt: unknown = NOW.toISOString()): string | null {
  const wire = { v: 1, event_type: "order_created", event_id: o.id, occurred_at: occurredAt, data: o };
  try {
    decode("orders", JSON.stringify(wire));
    return null;
  } catch (err) {
    if (!(err instanceof InvalidEvent)) throw err;
    return err.message.split(":")[0] ?? "";
  }
}

function producerVerdict(o: object, occurredAt = NOW): string | null {
  try {
    encode("orders", o as unknown as Order, occurredAt);
    return null;
  } catch (err) {
    if (!(err instanceof InvalidEvent)) throw err;
    return err.message.split(":")[0] ?? "";
  }
}

// values that break (or keep) a field, within the columns' ranges (those are encode's alone)
const BROKEN: Record<string, unknown[]> = {
  id: ["", "x".repeat(65), 7, null, undefined, "x".repeat(64), `O_${"x".repeat(62)}`, "U_1", "o_1"],
  user_id: ["", "u".repeat(65), null, ["U_1"], "P_1", "U_x"],
  product_id: ["", 42, undefined, "O_1", "P_x"],
  quantity: [0, -1, 1.5, "2", null, Number.NaN, Number.POSITIVE_INFINITY],
  unit_price: [-1, 0.5, "1000", null, 0],
  shipping_cost: [1000, -2500, "2500", null, 2500, 3000, 0],
  discount_amount: [-1, 2.5, null, "0", 2_000_000_000],
  total_amount: [1.5, "10", null, Number.NaN],
  payment_method: ["card", "PAYPAL", "", null, 1],
  status: ["SHIPPED", "paid", null],
  created_at: [new Date("1989-12-31T23:59:59Z"), new Date("2101-01-01T00:00:00Z"), new Date(Number.NaN), null, "yesterday"],
  category: ["GOLF ", "golf", "", null, "NOT_A_CATEGORY"],
  user_region: ["Tokyo", "", null],
  user_gender: ["X", "m", null],
  user_age_band: ["60s", "", null, 20],
  coupon_code: ["", "c".repeat(41), 5, null, undefined, "SAVE5K", "c".repeat(40)],
  session_id: ["", "O_1", `S_${"s".repeat(63)}`, 5, null, undefined, "S_1", `S_${"s".repeat(62)}`],
};

describe("encode() on new orders", () => {
  test("every order the generator draws, in every scenario, passes and decodes back to itself", () => {
    const orders = drawn(20_000, "all");
    for (const o of orders) {
      const back = decode("orders", encode("orders", o)).data as Order;
      expect(back).toEqual(o);
    }
  });

  test("a broken field gets the consumer's verdict, field by field (the same path, or both accept)", () => {
    const base = drawn(SCENARIOS.length * 3, "broken");
    let compared = 0;
    let refused = 0;
    for (const o of base) {
      for (const [field, values] of Object.entries(BROKEN)) {
        for (const value of values) {
          const broken: Record<string, unknown> = { ...o, [field]: value };
          // an amount changed alone would break the total: keep the total consistent so only the field is judged
          if (["quantity", "unit_price", "shipping_cost", "discount_amount"].includes(field) && typeof value === "number")
            broken.total_amount =
              (broken.unit_price as number) * (broken.quantity as number) +
              (broken.shipping_cost as number) -
              (broken.discount_amount as number);
          const expected = consumerVerdict(broken);
          expect({ field, value: String(value), verdict: producerVerdict(broken) }).toEqual({
            field,
            value: String(value),
            verdict: expected,
          });
          compared++;
          if (expected !== null) refused++;
        }
      }
    }
    // most mutations break the contract; a few are kept as valid controls
    expect(refused).toBeGreaterThan(compared * 0.8);
    expect(refused).toBeLessThan(compared);
  });

  test("a total that does not add up, and an occurred_at outside the shop's years, are refused by both", () => {
    const [o] = drawn(1, "total") as [Order];
    const wrongTotal = { ...o, total_amount: o.total_amount + 1 };
    expect(producerVerdict(wrongTotal)).toBe("data.total_amount");
    expect(consumerVerdict(wrongTotal)).toBe("data.total_amount");
    expect(producerVerdict(o, new Date("1980-01-01T00:00:00Z"))).toBe("occurred_at");
    expect(consumerVerdict(o, "1980-01-01T00:00:00.000Z")).toBe("occurred_at");
  });

  test("the columns' limits stay encode's own: a quantity PostgreSQL's smallint cannot hold is refused before publishing", () => {
    const [o] = drawn(1, "limits") as [Order];
    const huge = { ...o, quantity: 40_000, total_amount: o.unit_price * 40_000 + o.shipping_cost - o.discount_amount };
    expect(consumerVerdict(huge)).toBeNull();
    expect(() => encode("orders", huge)).toThrow("data.quantity: 40000 is outside the column's range -32768..32767");
  });
});

import { describe, expect, test } from "bun:test";
import { buildOrder, shippingCost } from "../../src/domain/orders.ts";
import { Rng } from "../../src/domain/random.ts";
import type { Order } from "../../src/domain/types.ts";

const at = new Date("2025-04-01T10:00:00Z");
const user = (age: number | null) => ({ id: "U_1", age, gender: "F" as const, region: "서울" });

function orders(n: number, seed: string, age: number | null, price = 12_300, category = "DETERGENT"): Order[] {
  const rng = new Rng(seed);
  return Array.from({ length: n }, (_, i) =>
    buildOrder({
      id: `O_${i}`,
      user: user(age),
      product: { id: "P_1", category, price },
      quantity: 1 + (i % 4),
      at,
      rng,
    }),
  );
}

describe("buildOrder", () => {
  test("copies ids, price, quantity and the snapshot columns", () => {
    const [o] = orders(1, "a", 34, 45_000, "SKINCARE");
    expect(o).toMatchObject({
      id: "O_0",
      user_id: "U_1",
      product_id: "P_1",
      quantity: 1,
      unit_price: 45_000,
      created_at: at,
      category: "SKINCARE",
      user_region: "서울",
      user_gender: "F",
      user_age_band: "30s",
    });
    expect(orders(1, "a", null)[0]!.user_age_band).toBe("30s");
    expect(orders(1, "a", 61)[0]!.user_age_band).toBe("50s+");
  });

  test("total = unit price × quantity + shipping − discount; discount 0–10 %, many zero", () => {
    const all = [
      ...orders(3_000, "t1", 28, 9_900),
      ...orders(3_000, "t2", 45, 48_700, "FRESH"),
      ...orders(3_000, "t3", 52, 1_234_500, "LODGING"),
    ];
    let zero = 0;
    for (const o of all) {
      const subtotal = o.unit_price * o.quantity;
      expect(o.total_amount).toBe(subtotal + o.shipping_cost - o.discount_amount);
      expect([0, 2_500, 3_000]).toContain(o.shipping_cost);
      expect(Number.isInteger(o.discount_amount)).toBe(true);
      expect(o.discount_amount % 10).toBe(0);
      expect(o.discount_amount).toBeGreaterThanOrEqual(0);
      expect(o.discount_amount).toBeLessThanOrEqual(subtotal * 0.1);
      if (o.discount_amount === 0) zero++;
    }
    expect(zero / all.length).toBeGreaterThan(0.5);
    expect(zero / all.length).toBeLessThan(0.8);
  });

  test("shipping: free from 50,000 KRW and for tickets/flights/rooms; 3,000 for cold chain", () => {
    expect(shippingCost("DETERGENT", 49_900)).toBe(2_500);
    expect(shippingCost("DETERGENT", 50_000)).toBe(0);
    expect(shippingCost("FRESH", 30_000)).toBe(3_000);
    expect(shippingCost("MEAT", 30_000)).toBe(3_000);
    expect(shippingCost("TICKETS", 10_000)).toBe(0);
  });

  test("every order is born PAID: cancellations and returns come later, from its lifecycle", () => {
    expect(new Set(orders(5_000, "status", 35).map((o) => o.status))).toEqual(new Set(["PAID"]));
  });

  test("younger buyers use the pay apps more than 50대 and over", () => {
    const payApps = (age: number) => {
      const all = orders(20_000, `pay${age}`, age);
      return all.filter((o) => o.payment_method === "NAVER_PAY" || o.payment_method === "KAKAO_PAY").length / all.length;
    };
    const young = payApps(24);
    const old = payApps(57);
    expect(young).toBeGreaterThan(old + 0.3);
    const methods = new Set(orders(5_000, "m", 40).map((o) => o.payment_method));
    expect([...methods].sort()).toEqual(["BANK_TRANSFER", "CARD", "KAKAO_PAY", "NAVER_PAY"]);
  });

  test("deterministic per seed", () => {
    expect(JSON.stringify(orders(500, "d", 30))).toBe(JSON.stringify(orders(500, "d", 30)));
    expect(JSON.stringify(orders(500, "d", 30))).not.toBe(JSON.stringify(orders(500, "e", 30)));
  });

  test("rejects a quantity below 1", () => {
    expect(() =>
      buildOrder({ id: "O", user: user(30), product: { id: "P", category: "FRESH", price: 100 }, quantity: 0, at, rng: new Rng(1) }),
    ).toThrow(/quantity/);
  });
});

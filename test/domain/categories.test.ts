import { describe, expect, test } from "bun:test";
import { CATEGORIES, CATEGORY_BY_CODE, categoryByCode, drawPrice, drawQuantity } from "../../src/domain/categories.ts";
import { Rng } from "../../src/domain/random.ts";

// docs/design.md, "Catalogue and orders", row by row.
const DOCUMENTED: [string, string, number, number, number, number[]][] = [
  ["DETERGENT", "세제/위생", 22, 5_000, 50_000, [15, 25, 25, 18, 12, 5]],
  ["FRESH", "신선(과일/채소)", 20, 10_000, 80_000, [55, 30, 15]],
  ["PAPER", "화지/제지", 20, 10_000, 40_000, [20, 35, 30, 15]],
  ["SKINCARE", "스킨케어", 18, 10_000, 150_000, [45, 30, 18, 7]],
  ["MEAT", "육류/가공", 16, 20_000, 200_000, [50, 35, 15]],
  ["SUPPLEMENTS", "영양제", 14, 15_000, 150_000, [40, 35, 18, 7]],
  ["FASHION_SS", "SS(봄여름)", 12, 15_000, 150_000, [70, 20, 10]],
  ["HEALTH_FOOD", "건강식품", 10, 30_000, 500_000, [55, 30, 15]],
  ["FASHION_FW", "FW(가을겨울)", 10, 30_000, 800_000, [80, 20]],
  ["ANTI_AGING", "기능성(안티에이징)", 8, 50_000, 500_000, [85, 15]],
  ["TICKETS", "티켓/패스", 8, 10_000, 100_000, [20, 35, 30, 15]],
  ["FLIGHTS", "항공", 6, 50_000, 1_500_000, [25, 45, 20, 10]],
  ["LODGING", "숙박", 6, 80_000, 2_000_000, [50, 35, 15]],
  ["OFFICE", "사무/학생", 5, 50_000, 500_000, [90, 10]],
  ["IT_GAMING", "IT/게이밍", 4, 100_000, 3_000_000, [92, 8]],
  ["CAMPING", "캠핑", 4, 20_000, 2_000_000, [85, 15]],
  ["GOLF", "골프", 3, 50_000, 1_500_000, [88, 12]],
  ["APPLIANCES", "생활가전", 2, 500_000, 5_000_000, [1]],
  ["FURNITURE", "소파/침대", 2, 300_000, 3_000_000, [1]],
];

describe("categories", () => {
  test("the 19 categories in order with exact figures", () => {
    expect(CATEGORIES).toHaveLength(19);
    CATEGORIES.forEach((c, i) => {
      const [code, nameKo, weight, min, max, qty] = DOCUMENTED[i]!;
      expect({ code: c.code, nameKo: c.nameKo, w: c.orderWeight, min: c.priceMin, max: c.priceMax, q: [...c.quantityWeights] }).toEqual({
        code,
        nameKo,
        w: weight,
        min,
        max,
        q: qty,
      });
    });
  });

  test("lookup by code, with a clear error for unknown codes", () => {
    expect(CATEGORY_BY_CODE.size).toBe(19);
    expect(CATEGORY_BY_CODE.get("GOLF")?.nameKo).toBe("골프");
    expect(categoryByCode("FRESH").orderWeight).toBe(20);
    expect(() => categoryByCode("NOPE")).toThrow(/unknown category "NOPE".*DETERGENT/);
  });

  test("each has 6–10 distinct Korean-shop brands, including the spec's examples", () => {
    for (const c of CATEGORIES) {
      expect(c.brands.length).toBeGreaterThanOrEqual(6);
      expect(c.brands.length).toBeLessThanOrEqual(10);
      expect(new Set(c.brands).size).toBe(c.brands.length);
    }
    expect(categoryByCode("DETERGENT").brands).toContain("다우니");
    expect(categoryByCode("DETERGENT").brands).toContain("퍼실");
    expect(categoryByCode("SKINCARE").brands).toContain("이니스프리");
    expect(categoryByCode("SKINCARE").brands).toContain("라운드랩");
    expect(categoryByCode("FASHION_FW").brands).toContain("노스페이스");
    expect(categoryByCode("FLIGHTS").brands).toContain("대한항공");
  });
});

describe("drawQuantity", () => {
  const N = 60_000;
  for (const c of CATEGORIES) {
    test(`${c.code}: 1..${c.quantityWeights.length}, shares match the weights`, () => {
      const rng = new Rng(`qty:${c.code}`);
      const counts = new Array<number>(c.quantityWeights.length).fill(0);
      for (let i = 0; i < N; i++) {
        const q = drawQuantity(c, rng);
        expect(Number.isInteger(q) && q >= 1 && q <= c.quantityWeights.length).toBe(true);
        counts[q - 1]!++;
      }
      const total = c.quantityWeights.reduce((s, w) => s + w, 0);
      for (const [i, w] of c.quantityWeights.entries()) expect(Math.abs(counts[i]! / N - w / total)).toBeLessThan(0.01);
    });
  }
});

describe("drawPrice", () => {
  for (const c of CATEGORIES) {
    test(`${c.code}: in range, multiple of 100, skewed low`, () => {
      const rng = new Rng(`price:${c.code}`);
      const prices: number[] = [];
      for (let i = 0; i < 5_000; i++) {
        const p = drawPrice(c, rng);
        expect(p).toBeGreaterThanOrEqual(c.priceMin);
        expect(p).toBeLessThanOrEqual(c.priceMax);
        expect(p % 100).toBe(0);
        prices.push(p);
      }
      prices.sort((a, b) => a - b);
      const median = prices[prices.length >> 1]!;
      expect(median).toBeLessThan((c.priceMin + c.priceMax) / 2);
      // still reaches the upper part of the range
      expect(prices[prices.length - 1]!).toBeGreaterThan(c.priceMin + 0.8 * (c.priceMax - c.priceMin));
    });
  }
});

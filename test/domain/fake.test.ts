import { describe, expect, test } from "bun:test";
import { CATEGORIES } from "../../src/domain/categories.ts";
import { generateProducts, generateUsers, REGIONS } from "../../src/domain/fake.ts";
import { Rng } from "../../src/domain/random.ts";

const now = new Date("2025-06-15T03:00:00Z");
const DAY = 86_400_000;
const users = generateUsers(new Rng(42), 10_000, now);
const products = generateProducts(new Rng(42), 20_000, now);
const share = <T>(xs: readonly T[], pred: (x: T) => boolean) => xs.filter(pred).length / xs.length;
const HANGUL = /^[가-힣]+$/;

describe("generateUsers", () => {
  test("count, determinism, seed sensitivity", () => {
    expect(users).toHaveLength(10_000);
    expect(JSON.stringify(generateUsers(new Rng(42), 10_000, now))).toBe(JSON.stringify(users));
    expect(JSON.stringify(generateUsers(new Rng(43), 100, now))).not.toBe(JSON.stringify(users.slice(0, 100)));
    expect(generateUsers(new Rng(1), 0, now)).toEqual([]);
  });

  test("unique ids (U_ + UUIDv7 at created_at) and unique e-mails", () => {
    expect(new Set(users.map((u) => u.id)).size).toBe(users.length);
    expect(new Set(users.map((u) => u.email)).size).toBe(users.length);
    for (const u of users.slice(0, 500)) {
      expect(u.id).toMatch(/^U_[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      expect(parseInt(u.id.slice(2).replace(/-/g, "").slice(0, 12), 16)).toBe(u.created_at.getTime());
    }
  });

  test("ages 20–60 weighted 30/30/25/15, birth year consistent with age", () => {
    for (const u of users) {
      expect(u.age).toBeGreaterThanOrEqual(20);
      expect(u.age).toBeLessThanOrEqual(60);
      expect([2025 - u.age, 2025 - u.age - 1]).toContain(u.birth_year);
    }
    expect(Math.abs(share(users, (u) => u.age < 30) - 0.3)).toBeLessThan(0.02);
    expect(Math.abs(share(users, (u) => u.age >= 30 && u.age < 40) - 0.3)).toBeLessThan(0.02);
    expect(Math.abs(share(users, (u) => u.age >= 40 && u.age < 50) - 0.25)).toBeLessThan(0.02);
    expect(Math.abs(share(users, (u) => u.age >= 50) - 0.15)).toBeLessThan(0.02);
  });

  test("gender 50/50, 20 % dormant, 50 % opted in, all BRONZE, never ordered", () => {
    expect(Math.abs(share(users, (u) => u.gender === "F") - 0.5)).toBeLessThan(0.02);
    expect(Math.abs(share(users, (u) => u.status === "DORMANT") - 0.2)).toBeLessThan(0.015);
    expect(Math.abs(share(users, (u) => u.marketing_opt_in) - 0.5)).toBeLessThan(0.02);
    for (const u of users) {
      expect(u.grade).toBe("BRONZE");
      expect(u.last_ordered_at).toBeNull();
    }
  });

  test("dormant never logged in since sign-up; active logged in after sign-up, before now", () => {
    for (const u of users) {
      if (u.status === "DORMANT") expect(u.last_login_at).toBeNull();
      else {
        expect(u.last_login_at!.getTime()).toBeGreaterThan(u.created_at.getTime());
        expect(u.last_login_at!.getTime()).toBeLessThanOrEqual(now.getTime());
      }
    }
  });

  test("created_at spread over the 5 years before now", () => {
    const ages = users.map((u) => (now.getTime() - u.created_at.getTime()) / (365.25 * DAY));
    for (const a of ages) {
      expect(a).toBeGreaterThanOrEqual(0);
      expect(a).toBeLessThanOrEqual(5);
    }
    for (let y = 0; y < 5; y++) expect(Math.abs(share(ages, (a) => a >= y && a < y + 1) - 0.2)).toBeLessThan(0.03);
  });

  test("regions weighted like the population, address starts with the region", () => {
    expect(REGIONS.map((r) => [r.name, r.weight])).toEqual([
      ["경기", 25],
      ["서울", 18],
      ["충청", 10],
      ["전라", 8],
      ["경상", 8],
      ["부산", 7],
      ["인천", 6],
      ["대구", 5],
      ["광주", 3],
      ["대전", 3],
      ["강원", 3],
      ["울산", 2],
      ["제주", 2],
    ]);
    for (const r of REGIONS) expect(Math.abs(share(users, (u) => u.region === r.name) - r.weight / 100)).toBeLessThan(0.015);
    for (const u of users) {
      expect(u.address.startsWith(u.region)).toBe(true);
      expect(u.address).toMatch(/[가-힣][가-힣0-9]*(로|길) \d+/);
    }
  });

  test("Korean names; ascii e-mails on the five domains", () => {
    const domains = new Set(["naver.com", "gmail.com", "daum.net", "kakao.com", "icloud.com"]);
    for (const u of users) {
      expect(u.name).toMatch(HANGUL);
      expect(u.name.length).toBeGreaterThanOrEqual(2);
      expect(u.name.length).toBeLessThanOrEqual(4);
      expect(u.email).toMatch(/^[a-z0-9._]+@[a-z.]+$/);
      expect(domains.has(u.email.split("@")[1]!)).toBe(true);
    }
    expect(share(users, (u) => u.name.startsWith("김"))).toBeGreaterThan(0.15); // the commonest surname
    expect(share(users, (u) => u.email.endsWith("@naver.com"))).toBeGreaterThan(0.35);
  });

  test("createdAt and takenEmails options for the live user-seeder", () => {
    const at = new Date("2025-06-15T04:00:00Z");
    const taken = new Set(users.map((u) => u.email));
    const fresh = generateUsers(new Rng(42), 2_000, at, { createdAt: at, takenEmails: taken });
    for (const u of fresh) {
      expect(u.created_at.getTime()).toBe(at.getTime());
      expect(users.some((x) => x.email === u.email)).toBe(false);
      if (u.status === "ACTIVE") expect(u.last_login_at?.getTime()).toBe(at.getTime());
    }
    expect(taken.size).toBe(12_000);
  });
});

describe("generateProducts", () => {
  test("count, determinism, seed sensitivity", () => {
    expect(products).toHaveLength(20_000);
    expect(JSON.stringify(generateProducts(new Rng(42), 20_000, now))).toBe(JSON.stringify(products));
    expect(JSON.stringify(generateProducts(new Rng(7), 50, now))).not.toBe(JSON.stringify(products.slice(0, 50)));
  });

  test("spread evenly: every category within ±1 pp of 1/19", () => {
    for (const c of CATEGORIES) {
      expect(Math.abs(share(products, (p) => p.category === c.code) - 1 / 19)).toBeLessThan(0.01);
    }
    const first19 = new Set(products.slice(0, 19).map((p) => p.category));
    expect(first19.size).toBe(19);
  });

  test("a batch of one is still a random category", () => {
    const seen = new Set<string>();
    for (let s = 0; s < 200; s++) seen.add(generateProducts(new Rng(s), 1, now)[0]!.category);
    expect(seen.size).toBeGreaterThan(15);
  });

  test("unique ids (P_ + UUIDv7), created over the last 2 years", () => {
    expect(new Set(products.map((p) => p.id)).size).toBe(products.length);
    for (const p of products) {
      expect(p.id.startsWith("P_")).toBe(true);
      const age = now.getTime() - p.created_at.getTime();
      expect(age).toBeGreaterThanOrEqual(0);
      expect(age).toBeLessThanOrEqual(2 * 365 * DAY);
    }
  });

  test("prices in range, list price ≥ price, discount rate consistent and 0–60 %", () => {
    const byCode = new Map(CATEGORIES.map((c) => [c.code, c]));
    for (const p of products) {
      const c = byCode.get(p.category)!;
      expect(p.price).toBeGreaterThanOrEqual(c.priceMin);
      expect(p.price).toBeLessThanOrEqual(c.priceMax);
      expect(p.price % 100).toBe(0);
      expect(p.original_price).toBeGreaterThanOrEqual(p.price);
      expect(p.original_price % 100).toBe(0);
      expect(Number.isInteger(p.discount_rate)).toBe(true);
      expect(p.discount_rate).toBeGreaterThanOrEqual(0);
      expect(p.discount_rate).toBeLessThanOrEqual(60);
      expect(Math.abs(p.discount_rate - (1 - p.price / p.original_price) * 100)).toBeLessThanOrEqual(0.5);
      expect(c.brands).toContain(p.brand);
    }
    expect(share(products, (p) => p.discount_rate === 0)).toBeGreaterThan(0.2);
    expect(share(products, (p) => p.discount_rate >= 30)).toBeGreaterThan(0.1);
  });

  test("names and descriptions read like Korean listings", () => {
    for (const p of products) {
      expect(p.name).toContain(p.brand);
      expect(p.name).toMatch(/[가-힣]/);
      expect(p.description).toMatch(/[가-힣].*입니다\.$/);
    }
    expect(share(products, (p) => p.name.startsWith("["))).toBeGreaterThan(0.15);
    expect(share(products, (p) => p.name.startsWith("["))).toBeLessThan(0.35);
    expect(new Set(products.map((p) => p.name)).size).toBeGreaterThan(15_000);
  });

  test("stock, rating 1.0–5.0 with one decimal, reviews, best sellers, no orders yet", () => {
    for (const p of products) {
      expect(Number.isInteger(p.stock) && p.stock >= 0).toBe(true);
      expect(p.rating).toBeGreaterThanOrEqual(1);
      expect(p.rating).toBeLessThanOrEqual(5);
      expect(Math.round(p.rating * 10) / 10).toBe(p.rating);
      expect(Number.isInteger(p.review_count) && p.review_count >= 0).toBe(true);
      expect(p.order_count).toBe(0);
    }
    const best = share(products, (p) => p.is_best);
    expect(best).toBeGreaterThan(0.02);
    expect(best).toBeLessThan(0.2);
  });

  test("createdAt option for the live producer", () => {
    const at = new Date("2025-06-15T05:00:00Z");
    const [p] = generateProducts(new Rng(1), 1, at, { createdAt: at });
    expect(p!.created_at.getTime()).toBe(at.getTime());
  });
});

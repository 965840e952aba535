import type { Order, Product, User } from "../../src/domain/types.ts";

// Small hand-made rows for database tests that must not depend on the fake-data generator.

export function user(id: string, over: Partial<User> = {}): User {
  return {
    id,
    name: `사용자${id}`,
    gender: "F",
    age: 34,
    birth_year: 1992,
    address: "서울 중구 세종대로 1",
    region: "서울",
    email: `${id.toLowerCase()}@naver.com`,
    grade: "BRONZE",
    status: "ACTIVE",
    marketing_opt_in: true,
    last_login_at: null,
    created_at: new Date("2024-01-01T00:00:00Z"),
    last_ordered_at: null,
    ...over,
  };
}

export function product(id: string, over: Partial<Product> = {}): Product {
  return {
    id,
    name: `상품${id}`,
    category: "FRESH",
    brand: "제스프리",
    original_price: 20_000,
    price: 18_000,
    discount_rate: 10,
    description: "신선한 과일",
    stock: 100,
    rating: 4.5,
    review_count: 10,
    is_best: false,
    order_count: 0,
    created_at: new Date("2024-01-01T00:00:00Z"),
    ...over,
  };
}

export function order(id: string, userId: string, productId: string, over: Partial<Order> = {}): Order {
  const base = {
    id,
    user_id: userId,
    product_id: productId,
    quantity: 1,
    unit_price: 10_000,
    shipping_cost: 2500,
    discount_amount: 0,
    payment_method: "CARD" as const,
    status: "PAID" as const,
    created_at: new Date("2025-06-01T00:00:00Z"),
    category: "FRESH",
    user_region: "서울",
    user_gender: "F" as const,
    user_age_band: "30s" as const,
    ...over,
  };
  return { ...base, total_amount: over.total_amount ?? base.unit_price * base.quantity + base.shipping_cost - base.discount_amount };
}

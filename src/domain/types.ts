// Plain data shapes shared by every layer. Money is integer KRW; timestamps are Date.

export type Gender = "M" | "F";
export type Grade = "BRONZE" | "SILVER" | "GOLD" | "VIP";
export type UserStatus = "ACTIVE" | "DORMANT";
export type OrderStatus = "PAID" | "SHIPPED" | "DELIVERED" | "CANCELLED" | "REFUNDED";
export const ORDER_STATUSES: readonly OrderStatus[] = ["PAID", "SHIPPED", "DELIVERED", "CANCELLED", "REFUNDED"];
export type PaymentMethod = "CARD" | "NAVER_PAY" | "KAKAO_PAY" | "BANK_TRANSFER";
/** 10대, 20대, 30대, 40대, 50대 이상 */
export type AgeBand = "10s" | "20s" | "30s" | "40s" | "50s+";

export const AGE_BANDS: readonly AgeBand[] = ["10s", "20s", "30s", "40s", "50s+"];

export interface User {
  id: string;
  name: string;
  gender: Gender;
  age: number;
  birth_year: number;
  address: string;
  region: string;
  email: string;
  grade: Grade;
  status: UserStatus;
  marketing_opt_in: boolean;
  last_login_at: Date | null;
  created_at: Date;
  last_ordered_at: Date | null;
}

export interface Product {
  id: string;
  name: string;
  category: string;
  brand: string;
  original_price: number;
  price: number;
  discount_rate: number;
  description: string;
  stock: number;
  rating: number;
  review_count: number;
  is_best: boolean;
  order_count: number;
  created_at: Date;
}

export interface Order {
  id: string;
  user_id: string;
  product_id: string;
  quantity: number;
  unit_price: number;
  shipping_cost: number;
  discount_amount: number;
  total_amount: number;
  payment_method: PaymentMethod;
  status: OrderStatus;
  created_at: Date;
  category: string;
  user_region: string;
  user_gender: Gender;
  user_age_band: AgeBand;
  /** The coupon behind the discount; only version 2 of the order schema carries it (docs/design.md, "Schemas"). */
  coupon_code?: string | null;
  /** The session the order was placed in (with --clicks); only version 3 of the order schema carries it. */
  session_id?: string | null;
}

/** One step of an order's lifecycle, as the order_status_changed event carries it. */
export interface StatusChange {
  order_id: string;
  from: OrderStatus;
  to: OrderStatus;
  at: Date;
  reason: string;
}

export function ageBandOf(age: number | null | undefined): AgeBand {
  if (age == null || !Number.isFinite(age)) return "30s"; // unknown counts as 30대 (docs/design.md, "Buyers")
  if (age < 20) return "10s";
  if (age < 30) return "20s";
  if (age < 40) return "30s";
  if (age < 50) return "40s";
  return "50s+";
}

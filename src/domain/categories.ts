// The nineteen categories (docs/design.md, "Catalogue and orders"); the brands are real ones a
// Korean shopper would expect in that aisle.
import type { Rng } from "./random.ts";

export interface Category {
  code: string;
  nameKo: string;
  /** Relative weight of ordering a product of this category. */
  orderWeight: number;
  priceMin: number;
  priceMax: number;
  /** Index 0 = quantity 1. */
  quantityWeights: readonly number[];
  brands: readonly string[];
}

const c = (
  code: string,
  nameKo: string,
  orderWeight: number,
  priceMin: number,
  priceMax: number,
  quantityWeights: readonly number[],
  brands: readonly string[],
): Category => ({ code, nameKo, orderWeight, priceMin, priceMax, quantityWeights, brands });

export const CATEGORIES: readonly Category[] = [
  c(
    "DETERGENT",
    "세제/위생",
    22,
    5_000,
    50_000,
    [15, 25, 25, 18, 12, 5],
    ["다우니", "퍼실", "피죤", "테크", "비트", "리큐", "한입", "스파크", "샤프란", "유한젠"],
  ),
  c(
    "FRESH",
    "신선(과일/채소)",
    20,
    10_000,
    80_000,
    [55, 30, 15],
    ["제스프리", "돌", "델몬트", "썬키스트", "풀무원", "농협", "초록마을", "한살림"],
  ),
  c(
    "PAPER",
    "화지/제지",
    20,
    10_000,
    40_000,
    [20, 35, 30, 15],
    ["크리넥스", "깨끗한나라", "모나리자", "잘풀리는집", "코디", "뽀삐", "스카트", "한예지"],
  ),
  c(
    "SKINCARE",
    "스킨케어",
    18,
    10_000,
    150_000,
    [45, 30, 18, 7],
    ["이니스프리", "라운드랩", "토리든", "닥터지", "아누아", "메디힐", "에스트라", "라네즈", "마녀공장"],
  ),
  c(
    "MEAT",
    "육류/가공",
    16,
    20_000,
    200_000,
    [50, 35, 15],
    ["하림", "목우촌", "비비고", "도드람", "선진포크", "마니커", "동원", "사조", "농협안심한우"],
  ),
  c(
    "SUPPLEMENTS",
    "영양제",
    14,
    15_000,
    150_000,
    [40, 35, 18, 7],
    ["종근당건강", "고려은단", "센트룸", "솔가", "나우푸드", "뉴트리원", "얼라이브", "덴프스"],
  ),
  c(
    "FASHION_SS",
    "SS(봄여름)",
    12,
    15_000,
    150_000,
    [70, 20, 10],
    ["무신사 스탠다드", "스파오", "탑텐", "에잇세컨즈", "지오다노", "커버낫", "마르디 메크르디", "폴햄"],
  ),
  c(
    "HEALTH_FOOD",
    "건강식품",
    10,
    30_000,
    500_000,
    [55, 30, 15],
    ["정관장", "한삼인", "천호엔케어", "김정문알로에", "광동", "CJ한뿌리", "셀렉스", "풀무원녹즙"],
  ),
  c(
    "FASHION_FW",
    "FW(가을겨울)",
    10,
    30_000,
    800_000,
    [80, 20],
    ["노스페이스", "디스커버리", "K2", "네파", "아이더", "코오롱스포츠", "내셔널지오그래픽", "블랙야크"],
  ),
  c("ANTI_AGING", "기능성(안티에이징)", 8, 50_000, 500_000, [85, 15], ["설화수", "후", "오휘", "아이오페", "헤라", "숨37", "AHC", "달바"]),
  c(
    "TICKETS",
    "티켓/패스",
    8,
    10_000,
    100_000,
    [20, 35, 30, 15],
    ["인터파크티켓", "예스24티켓", "멜론티켓", "롯데월드", "에버랜드", "CGV", "메가박스", "롯데시네마"],
  ),
  c(
    "FLIGHTS",
    "항공",
    6,
    50_000,
    1_500_000,
    [25, 45, 20, 10],
    ["대한항공", "아시아나항공", "제주항공", "진에어", "티웨이항공", "에어부산", "이스타항공", "에어서울"],
  ),
  c(
    "LODGING",
    "숙박",
    6,
    80_000,
    2_000_000,
    [50, 35, 15],
    ["신라스테이", "롯데호텔", "그랜드 조선", "한화리조트", "소노벨", "켄싱턴", "파라다이스호텔", "글래드"],
  ),
  c("OFFICE", "사무/학생", 5, 50_000, 500_000, [90, 10], ["시디즈", "퍼시스", "일룸", "모나미", "브라더", "캐논", "카시오", "3M"]),
  c(
    "IT_GAMING",
    "IT/게이밍",
    4,
    100_000,
    3_000_000,
    [92, 8],
    ["삼성전자", "LG전자", "애플", "로지텍", "레이저", "ASUS", "닌텐도", "소니", "앱코"],
  ),
  c(
    "CAMPING",
    "캠핑",
    4,
    20_000,
    2_000_000,
    [85, 15],
    ["코베아", "콜맨", "스노우피크", "헬리녹스", "캠핑문", "노르디스크", "버팔로", "카즈미"],
  ),
  c("GOLF", "골프", 3, 50_000, 1_500_000, [88, 12], ["타이틀리스트", "캘러웨이", "테일러메이드", "핑", "젝시오", "혼마", "볼빅", "PXG"]),
  c("APPLIANCES", "생활가전", 2, 500_000, 5_000_000, [1], ["삼성전자", "LG전자", "다이슨", "쿠쿠", "위닉스", "코웨이", "쿠첸", "SK매직"]),
  c(
    "FURNITURE",
    "소파/침대",
    2,
    300_000,
    3_000_000,
    [1],
    ["한샘", "일룸", "에이스침대", "시몬스", "까사미아", "현대리바트", "템퍼", "자코모"],
  ),
];

export const CATEGORY_BY_CODE: ReadonlyMap<string, Category> = new Map(CATEGORIES.map((cat) => [cat.code, cat]));

export function categoryByCode(code: string): Category {
  const cat = CATEGORY_BY_CODE.get(code);
  if (!cat) throw new Error(`unknown category "${code}"; valid: ${CATEGORIES.map((x) => x.code).join(", ")}`);
  return cat;
}

export function drawQuantity(category: Category, rng: Rng): number {
  return rng.weightedIndex(category.quantityWeights) + 1;
}

// u^2.2 puts the median near a fifth of the range: most listings are cheap, a long tail is not.
const PRICE_SKEW = 2.2;

/** A price in the category's range, skewed to the low end, rounded to 100 KRW. */
export function drawPrice(category: Category, rng: Rng): number {
  const { priceMin: min, priceMax: max } = category;
  const raw = min + (max - min) * rng.next() ** PRICE_SKEW;
  return Math.min(max, Math.max(min, Math.round(raw / 100) * 100));
}

/** Where a price sits in its category, 0..1, undoing the skew: uniform for drawn prices. */
export function priceQuantile(category: Category, price: number): number {
  const x = (price - category.priceMin) / (category.priceMax - category.priceMin);
  return Math.min(1, Math.max(0, x)) ** (1 / PRICE_SKEW);
}

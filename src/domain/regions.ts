// Where users live (docs/design.md, "Catalogue and orders"): 시/도 weighted like Korea's population, with a few real districts each
// so addresses read like real ones.

export const REGIONS: readonly { name: string; weight: number }[] = [
  { name: "경기", weight: 25 },
  { name: "서울", weight: 18 },
  { name: "충청", weight: 10 },
  { name: "전라", weight: 8 },
  { name: "경상", weight: 8 },
  { name: "부산", weight: 7 },
  { name: "인천", weight: 6 },
  { name: "대구", weight: 5 },
  { name: "광주", weight: 3 },
  { name: "대전", weight: 3 },
  { name: "강원", weight: 3 },
  { name: "울산", weight: 2 },
  { name: "제주", weight: 2 },
];

const under = (province: string, districts: readonly string[]) => districts.map((d) => `${province} ${d}`);

// Every entry starts with its region's name, so `address.startsWith(region)` holds. That is why
// 전라 uses the pre-2024 name 전라북도 rather than 전북특별자치도.
export const DISTRICTS: Readonly<Record<string, readonly string[]>> = {
  경기: under("경기도", ["수원시 영통구", "성남시 분당구", "고양시 일산동구", "용인시 수지구", "화성시", "부천시",
    "남양주시", "안양시 동안구", "평택시", "김포시", "파주시", "시흥시", "하남시", "광명시"]),
  서울: under("서울특별시", ["강남구", "송파구", "서초구", "마포구", "강서구", "노원구", "관악구", "영등포구",
    "성북구", "은평구", "용산구", "광진구", "동작구", "양천구"]),
  충청: ["충청북도 청주시 흥덕구", "충청북도 충주시", "충청북도 제천시", "충청남도 천안시 서북구",
    "충청남도 아산시", "충청남도 당진시", "충청남도 공주시"],
  전라: ["전라북도 전주시 완산구", "전라북도 익산시", "전라북도 군산시", "전라남도 순천시", "전라남도 여수시",
    "전라남도 목포시", "전라남도 나주시"],
  경상: ["경상남도 창원시 성산구", "경상남도 김해시", "경상남도 진주시", "경상북도 포항시 북구", "경상북도 구미시",
    "경상북도 경주시", "경상북도 안동시"],
  부산: under("부산광역시", ["해운대구", "부산진구", "동래구", "사하구", "수영구", "남구", "금정구"]),
  인천: under("인천광역시", ["연수구", "남동구", "부평구", "서구", "미추홀구", "계양구"]),
  대구: under("대구광역시", ["수성구", "달서구", "북구", "동구", "중구"]),
  광주: under("광주광역시", ["광산구", "북구", "서구", "남구", "동구"]),
  대전: under("대전광역시", ["유성구", "서구", "중구", "대덕구", "동구"]),
  강원: under("강원특별자치도", ["춘천시", "원주시", "강릉시", "속초시", "동해시"]),
  울산: under("울산광역시", ["남구", "중구", "북구", "동구", "울주군"]),
  제주: under("제주특별자치도", ["제주시", "서귀포시"]),
};

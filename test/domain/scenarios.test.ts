import { describe, expect, test } from "bun:test";
import { CATEGORY_BY_CODE } from "../../src/domain/categories.ts";
import { blackFriday, chuseok, dayNumber, seollal } from "../../src/domain/holidays.ts";
import {
  BASELINE,
  categoryWeight,
  demographicFactor,
  SCENARIOS,
  scenarioAt,
  scenarioById,
  scenarioForDate,
  scenarioForHour,
} from "../../src/domain/scenarios.ts";
import { seoulTime } from "../../src/domain/seoul-time.ts";
import { AGE_BANDS } from "../../src/domain/types.ts";

const on = (y: number, m: number, d: number, h = 12) => seoulTime(y, m, d, h);

describe("presets", () => {
  test("baseline: M 45 / F 55, age bands 8/28/28/22/14, volume 1", () => {
    expect(BASELINE.genderWeights).toEqual({ M: 45, F: 55 });
    expect(AGE_BANDS.map((b) => BASELINE.ageBandWeights[b])).toEqual([8, 28, 28, 22, 14]);
    expect(BASELINE.volume).toBe(1);
    expect(BASELINE.categoryWeights).toEqual({});
  });

  test("20 presets with unique ids, Korean names and sane weights", () => {
    expect(SCENARIOS).toHaveLength(20);
    const ids = [BASELINE, ...SCENARIOS].map((s) => s.id);
    expect(new Set(ids).size).toBe(21);
    for (const s of SCENARIOS) {
      expect(s.id).toMatch(/^[a-z0-9_]+$/);
      expect(s.name).toMatch(/[가-힣]/);
      expect(s.volume).toBeGreaterThan(0);
      expect(s.genderWeights.M + s.genderWeights.F).toBeGreaterThan(0);
      for (const b of AGE_BANDS) expect(s.ageBandWeights[b]).toBeGreaterThanOrEqual(0);
      for (const [code, w] of Object.entries(s.categoryWeights)) {
        expect(CATEGORY_BY_CODE.has(code)).toBe(true);
        expect(w).toBeGreaterThan(0);
      }
    }
  });

  test("covers the documented list", () => {
    for (const id of [
      "female_surge",
      "male_it_rush",
      "black_friday",
      "holiday_gifts",
      "summer_fashion_beauty",
      "winter_padding",
      "beauty_viral",
      "mz_trend",
      "senior_health_food",
      "camping_season",
      "new_semester",
      "wedding_season",
      "new_year_diet",
      "parenting_bulk",
      "golf_season",
      "travel_peak",
      "dawn_delivery_groceries",
      "appliance_sale",
      "late_night_small",
      "all_even",
    ])
      expect(scenarioById(id).id).toBe(id);
  });

  test("presets lean the way their names say", () => {
    expect(scenarioById("female_surge").genderWeights.F).toBeGreaterThan(scenarioById("female_surge").genderWeights.M);
    expect(categoryWeight(scenarioById("male_it_rush"), "IT_GAMING")).toBeGreaterThan(2);
    expect(categoryWeight(scenarioById("golf_season"), "GOLF")).toBeGreaterThan(2);
    expect(categoryWeight(scenarioById("winter_padding"), "FASHION_FW")).toBeGreaterThan(2);
    expect(categoryWeight(scenarioById("late_night_small"), "APPLIANCES")).toBeLessThan(1);
    expect(categoryWeight(scenarioById("black_friday"), "FRESH")).toBe(1); // missing = 1
    expect(scenarioById("black_friday").volume).toBeGreaterThan(BASELINE.volume);
  });

  test("all_even makes every category equally likely", () => {
    const even = scenarioById("all_even");
    const effective = [...CATEGORY_BY_CODE.values()].map((c) => c.orderWeight * categoryWeight(even, c.code));
    for (const w of effective) expect(w).toBeCloseTo(effective[0]!, 9);
  });

  test("scenarioById names the valid ids when it fails", () => {
    expect(scenarioById("baseline")).toBe(BASELINE);
    expect(() => scenarioById("cyber_tuesday")).toThrow(/unknown scenario "cyber_tuesday".*black_friday/);
  });
});

describe("hour-tied presets", () => {
  test("00–05 late-night small orders, 21–23 dawn-delivery groceries, nothing else", () => {
    for (let h = 0; h < 24; h++) {
      const s = scenarioForHour(h);
      if (h <= 5) expect(s?.id).toBe("late_night_small");
      else if (h >= 21) expect(s?.id).toBe("dawn_delivery_groceries");
      else expect(s).toBeUndefined();
    }
  });
});

describe("calendar", () => {
  test("Black Friday is the day after the 4th Thursday of November", () => {
    expect(blackFriday(2024)).toBe(dayNumber(2024, 11, 29));
    expect(blackFriday(2025)).toBe(dayNumber(2025, 11, 28));
    expect(blackFriday(2026)).toBe(dayNumber(2026, 11, 27));
  });

  test("lunar holidays from the table", () => {
    expect(seollal(2025)).toBe(dayNumber(2025, 1, 29));
    expect(chuseok(2025)).toBe(dayNumber(2025, 10, 6));
    expect(seollal(2028)).toBe(dayNumber(2028, 1, 27));
  });

  test("late November maps to Black Friday (Mon before to Cyber Monday)", () => {
    expect(scenarioForDate(on(2025, 11, 28)).id).toBe("black_friday");
    expect(scenarioForDate(on(2025, 11, 24)).id).toBe("black_friday");
    expect(scenarioForDate(on(2025, 12, 1)).id).toBe("black_friday");
    expect(scenarioForDate(on(2025, 11, 23)).id).toBe("winter_padding");
    expect(scenarioForDate(on(2025, 12, 2)).id).toBe("winter_padding");
  });

  test("gift sets in the two weeks before Seollal and Chuseok", () => {
    expect(scenarioForDate(on(2025, 1, 20)).id).toBe("holiday_gifts"); // Seollal 1/29
    expect(scenarioForDate(on(2025, 1, 28)).id).toBe("holiday_gifts");
    expect(scenarioForDate(on(2025, 1, 29)).id).not.toBe("holiday_gifts");
    expect(scenarioForDate(on(2025, 9, 25)).id).toBe("holiday_gifts"); // Chuseok 10/6
    expect(scenarioForDate(on(2025, 10, 3)).id).toBe("holiday_gifts");
    expect(scenarioForDate(on(2024, 9, 10)).id).toBe("holiday_gifts"); // Chuseok 9/17
  });

  test("seasons", () => {
    expect(scenarioForDate(on(2025, 1, 5)).id).toBe("new_year_diet");
    expect(scenarioForDate(on(2025, 3, 2)).id).toBe("new_semester");
    expect(scenarioForDate(on(2025, 4, 10)).id).toBe("camping_season");
    expect(scenarioForDate(on(2025, 4, 25)).id).toBe("golf_season");
    expect(scenarioForDate(on(2025, 5, 17)).id).toBe("wedding_season");
    expect(scenarioForDate(on(2025, 6, 20)).id).toBe("summer_fashion_beauty");
    expect(scenarioForDate(on(2025, 8, 1)).id).toBe("travel_peak");
    expect(scenarioForDate(on(2025, 9, 5)).id).toBe("golf_season");
    expect(scenarioForDate(on(2025, 10, 20)).id).toBe("wedding_season");
    expect(scenarioForDate(on(2025, 12, 15)).id).toBe("winter_padding");
    expect(scenarioForDate(on(2025, 2, 12))).toBe(BASELINE);
    expect(scenarioForDate(on(2025, 3, 20))).toBe(BASELINE);
  });

  test("uses the Seoul date, not UTC", () => {
    // 2025-11-23T16:00Z is already Monday 24 Nov 01:00 in Seoul
    expect(scenarioForDate(new Date("2025-11-23T14:59:00Z")).id).toBe("winter_padding");
    expect(scenarioForDate(new Date("2025-11-23T15:00:00Z")).id).toBe("black_friday");
  });

  test("scenarioAt: dated sales first, then hour-tied presets (late night on weekdays), then the season", () => {
    expect(scenarioAt(on(2025, 11, 28, 22)).id).toBe("black_friday");
    expect(scenarioAt(on(2025, 6, 18, 22)).id).toBe("dawn_delivery_groceries");
    expect(scenarioAt(on(2025, 6, 18, 2)).id).toBe("late_night_small"); // Wednesday
    expect(scenarioAt(on(2025, 6, 21, 2)).id).toBe("summer_fashion_beauty"); // Saturday
    expect(scenarioAt(on(2025, 6, 18, 14)).id).toBe("summer_fashion_beauty");
  });
});

describe("demographicFactor", () => {
  test("1 under the baseline for everyone", () => {
    for (const gender of ["M", "F"] as const) {
      for (const age of [15, 25, 35, 45, 55, null]) expect(demographicFactor(BASELINE, { gender, age })).toBeCloseTo(1, 12);
    }
  });

  test("ratio of gender share × age-band share against the baseline", () => {
    const s = scenarioById("female_surge"); // F 75 % vs 55 %, ages as baseline
    expect(demographicFactor(s, { gender: "F", age: 30 })).toBeCloseTo(0.75 / 0.55, 12);
    expect(demographicFactor(s, { gender: "M", age: 30 })).toBeCloseTo(0.25 / 0.45, 12);
    const senior = scenarioById("senior_health_food");
    expect(demographicFactor(senior, { gender: "F", age: 58 })).toBeGreaterThan(2);
    expect(demographicFactor(senior, { gender: "F", age: 24 })).toBeLessThan(0.5);
  });

  test("a buyer pool drawn by it shifts toward the scenario's demographics", () => {
    const s = scenarioById("male_it_rush");
    const m = demographicFactor(s, { gender: "M", age: 25 });
    const f = demographicFactor(s, { gender: "F", age: 25 });
    // relative to the baseline, the odds of a man over a woman move from 45:55 to 75:25
    expect(m / f).toBeCloseTo(75 / 25 / (45 / 55), 12);
  });
});

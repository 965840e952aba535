import { expect, test } from "bun:test";
import { parseRealismFlags } from "../../src/cli/realism.ts";
import { parseReportFlags } from "../../src/cli/report.ts";
import { seoulDay } from "../../src/domain/seoul-time.ts";
import { resolvePeriod } from "../../src/historical/plan.ts";

test("a day flag is the Seoul day, the same in report, realism and historical", () => {
  const midnight = new Date("2025-03-14T15:00:00Z"); // 2025-03-15 00:00 in Seoul
  expect(seoulDay("2025-03-15")).toEqual(midnight);
  expect(parseReportFlags(["--from", "2025-03-15"]).from).toEqual(midnight);
  expect(parseRealismFlags(["--to", "2025-03-15"]).to).toEqual(midnight);
  expect(resolvePeriod({ start: "2025-03-15", days: 1 }, new Date()).start).toEqual(midnight);
});

test("a day that is not one is refused, naming the flag", () => {
  for (const raw of ["2025-02-30", "2025-13-01", "15.03.2025", "2025-03-15T00:00:00Z", ""]) expect(seoulDay(raw)).toBeNull();
  expect(() => parseReportFlags(["--from", "2025-02-30"])).toThrow('--from: expected a date YYYY-MM-DD, got "2025-02-30"');
  expect(() => parseRealismFlags(["--to", "yesterday"])).toThrow('--to: expected a date YYYY-MM-DD, got "yesterday"');
  expect(parseRealismFlags(["--source", "live", "--simulated-clock"]).simulatedClock).toBe(true);
  expect(parseRealismFlags([]).simulatedClock).toBe(false);
});

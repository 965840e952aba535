import { expect, test } from "bun:test";
import { infoField, reloadBanner, statusLine } from "../../src/cache/monitor.ts";

test("the status line has its documented shape: countdown bar of 20 cells, memory, ops, hit rate, sizes, reloads", () => {
  const now = new Date(2026, 0, 1, 11, 45, 35);
  const line = statusLine({
    now,
    elapsedS: 15.4,
    periodS: 50,
    usedMemory: "2.25M",
    opsPerSec: 120,
    hits: 99,
    misses: 1,
    users: 1000,
    products: 1000,
    reloads: 1,
  });
  expect(line).toBe(
    "[11:45:35] [15/50s ######--------------] | MEM: 2.25M | OPS/s: 120 | HIT: 99.0% | CACHE: users=1000, products=1000 | 교체: 1회",
  );
});

test("the bar is empty right after a reload, full at the period, and clamps beyond it", () => {
  const base = {
    now: new Date(2026, 0, 1, 0, 0, 0),
    periodS: 50,
    usedMemory: "1M",
    opsPerSec: 0,
    hits: 0,
    misses: 0,
    users: 0,
    products: 0,
    reloads: 0,
  };
  expect(statusLine({ ...base, elapsedS: 0 })).toContain("[0/50s --------------------]");
  expect(statusLine({ ...base, elapsedS: 50 })).toContain("[50/50s ####################]");
  expect(statusLine({ ...base, elapsedS: 80 })).toContain("[50/50s ####################]");
  expect(statusLine({ ...base, elapsedS: 5 })).toContain("HIT: -"); // no lookups yet
});

test("banner and INFO parsing", () => {
  expect(reloadBanner(3)).toBe("🔄 3번째 교체 완료!");
  const info = "# Memory\r\nused_memory:1234\r\nused_memory_human:1.21K\r\n";
  expect(infoField(info, "used_memory_human")).toBe("1.21K");
  expect(infoField(info, "missing")).toBeUndefined();
});

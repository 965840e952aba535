import { afterAll, beforeAll, expect, test } from "bun:test";
import { insertOrders, insertProducts, insertUsers } from "../../src/db/writers.ts";
import { GradeLane } from "../../src/historical/grade-lane.ts";
import { createTestDatabase, type TestDatabase } from "../../support/db.ts";
import { gradeDifferences, gradesByRule } from "../support/grades.ts";
import { order, product, user } from "../support/fixtures.ts";

// The historical year's grade lane checks the in-memory window against the updater's SQL; a window
// that missed a change (here: no changes at all) is caught, counted, and repaired in the database by
// that SQL, so the next check finds the stored grades right.

let db: TestDatabase;
const AS_OF = new Date("2025-12-31T12:00:00Z");
const WEEK = 7 * 86_400_000;

beforeAll(async () => {
  db = await createTestDatabase("gradelane");
  await insertProducts(db.sql, [product("P_l")]);
  await insertUsers(db.sql, [user("U_silver"), user("U_stays")]);
  // three orders of 100,000: SILVER's threshold (300,000 and 3 orders) exactly
  await insertOrders(
    db.sql,
    [1, 2, 3].map((i) =>
      order(`O_l_${i}`, "U_silver", "P_l", {
        unit_price: 100_000,
        shipping_cost: 0,
        total_amount: 100_000,
        created_at: new Date(AS_OF.getTime() - i * 86_400_000),
      }),
    ),
  );
});

afterAll(async () => {
  await db?.drop();
});

test("a checkpoint whose in-memory changes missed a grade is repaired by the updater's SQL and counted once", async () => {
  const conn = await db.sql.reserve();
  const lines: string[] = [];
  try {
    const lane = await GradeLane.open(conn, (line) => lines.push(line));
    lane.queue(AS_OF, [], 3, true); // the window "forgot" U_silver's promotion
    lane.queue(new Date(AS_OF.getTime() + WEEK), [], 3, true); // a week later: nothing new to repair
    await lane.drain();

    expect({ checks: lane.checks, mismatches: lane.mismatches }).toEqual({ checks: 2, mismatches: 1 });
    const grades = await db.sql`select id, grade from users order by id`;
    expect(grades.map((r) => [r.id, r.grade])).toEqual([
      ["U_silver", "SILVER"],
      ["U_stays", "BRONZE"],
    ]);
    const stored = new Map(grades.map((r) => [r.id as string, r.grade as string]));
    expect(gradeDifferences(stored, await gradesByRule(db.sql, AS_OF))).toEqual([]);
    const history = await db.sql`select user_id, old_grade, new_grade, changed_at, reason from grade_history`;
    expect(history.map((h) => [h.user_id, h.old_grade, h.new_grade, (h.changed_at as Date).toISOString(), h.reason])).toEqual([
      ["U_silver", "BRONZE", "SILVER", AS_OF.toISOString(), "historical"],
    ]);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain("1 user(s) held a grade other than the updater's SQL gives them; 1 repaired");
  } finally {
    conn.release();
  }
});

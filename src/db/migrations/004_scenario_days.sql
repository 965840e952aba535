-- The scenario each day of a historical year ran under (the calendar's: Black Friday week, gift
-- weeks, seasons), written by `bun run historical`, so analyses can show the scenario weeks.
CREATE TABLE IF NOT EXISTS scenario_days (
  day date PRIMARY KEY,
  scenario text NOT NULL
);

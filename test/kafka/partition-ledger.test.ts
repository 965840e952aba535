import { expect, test } from "bun:test";
import { PartitionLedger } from "../../src/kafka/adapters/partition-ledger.ts";

// The platformatic consumer's bookkeeping per partition, apart from the client that feeds it.

test("records of a partition not assigned, and copies of records already taken, are dropped", () => {
  const ledger = new PartitionLedger();
  expect(ledger.arrive(0, 5n)).toBe("drop"); // nothing assigned yet
  ledger.assign(new Set([0, 1]));
  expect(ledger.arrive(0, 5n)).toBe("take"); // the first record after the join starts the partition
  expect(ledger.arrive(0, 6n)).toBe("take");
  expect(ledger.arrive(0, 6n)).toBe("drop"); // the stream re-read it after a rebalance
  expect(ledger.arrive(0, 3n)).toBe("drop");
  expect(ledger.expected(0)).toBe(7n);
  expect(ledger.arrive(2, 0n)).toBe("drop"); // another member's
});

test("a skip ahead right after a rebalance calls for a reopen; the same gap between two fetches does not", () => {
  const ledger = new PartitionLedger();
  ledger.assign(new Set([0]));
  expect(ledger.arrive(0, 10n)).toBe("take");
  expect(ledger.arrive(0, 15n)).toBe("take"); // compacted or aborted offsets: a gap within a fetch is the log's
  ledger.assign(new Set([0])); // a rebalance kept partition 0
  expect(ledger.arrive(0, 20n)).toBe("skipped"); // expected 16: a fetch answered after the group moved on
  expect(ledger.arrive(0, 16n)).toBe("take");
  expect(ledger.arrive(0, 30n)).toBe("take"); // resumed: gaps are the log's again
});

test("a partition lost and gained again is a new gain: a batch of the old one is no longer owned", () => {
  const ledger = new PartitionLedger();
  expect(ledger.assign(new Set([0, 1])).sort()).toEqual([0, 1]);
  const first = ledger.gainOf(1);
  expect(ledger.assign(new Set([0, 1]))).toEqual([]); // kept across a rebalance: the same gain, nothing gained
  expect(ledger.gainOf(1)).toBe(first);
  expect(ledger.assign(new Set([0]))).toEqual([]);
  expect(ledger.gainOf(1)).toBeUndefined();
  expect(ledger.assign(new Set([0, 1]))).toEqual([1]); // gained again: the adapter forgets the stream's old position
  expect(ledger.gainOf(1)).not.toBe(first);
  expect(ledger.partitions().sort()).toEqual([0, 1]);
});

test("commits: past each written batch, only for partitions still owned, and again where the group stands behind", () => {
  const ledger = new PartitionLedger();
  ledger.assign(new Set([0, 1, 2]));
  expect(ledger.wrote("orders", 0, 99n, 3)).toEqual({ topic: "orders", partition: 0, offset: 100n, leaderEpoch: 3 });
  ledger.wrote("orders", 1, 49n, 3);
  ledger.wrote("orders", 2, 9n, 3);
  ledger.assign(new Set([0, 1])); // partition 2 went to another member: its commit is not ours to heal
  expect(ledger.owned().map((o) => o.partition)).toEqual([0, 1]);
  // the group holds 100 for partition 0 (landed) and 40 for partition 1 (an older commit landed last)
  const mine = ledger.owned();
  expect(PartitionLedger.behind(mine, [100n, 40n, 0n]).map((o) => [o.partition, o.offset])).toEqual([[1, 50n]]);
  expect(PartitionLedger.behind(mine, []).map((o) => o.partition)).toEqual([0, 1]); // none committed yet
  ledger.clear();
  expect([ledger.owned(), ledger.partitions(), ledger.arrive(0, 0n)]).toEqual([[], [], "drop"]);
});

import { expect, test } from "bun:test";
import { type FetchView, StallWatch } from "../../src/kafka/adapters/stall-watch.ts";

const view = (entries: [number, number, number][]) =>
  new Map<number, FetchView>(entries.map(([p, position, end]) => [p, { position: BigInt(position), end: BigInt(end) }]));

test("a partition whose fetch position stays put while its log held more is stalled; one that moved, or had nothing to fetch, is not", () => {
  const watch = new StallWatch();
  expect(
    watch.check(
      view([
        [0, 10, 50],
        [1, 40, 40],
        [2, 5, 9],
      ]),
    ),
  ).toEqual([]); // the first look only records
  // 0 stayed at 10 though 50 were there; 1 had nothing more; 2 moved on
  expect(
    watch.check(
      view([
        [0, 10, 80],
        [1, 40, 70],
        [2, 7, 12],
      ]),
    ),
  ).toEqual([0]);
  // 1's records came after the previous look, so only now, still unfetched, are they late
  expect(watch.check(view([[1, 40, 70]]))).toEqual([1]);
});

test("reset forgets the last look: a pause on purpose is not a stall", () => {
  const watch = new StallWatch();
  watch.check(view([[0, 10, 50]]));
  watch.reset();
  expect(watch.check(view([[0, 10, 50]]))).toEqual([]);
  expect(watch.check(view([[0, 10, 50]]))).toEqual([0]);
});

test("a partition seen for the first time, or no longer assigned, is not judged", () => {
  const watch = new StallWatch();
  watch.check(view([[0, 10, 50]]));
  expect(watch.check(view([[1, 10, 50]]))).toEqual([]);
  expect(watch.check(view([[0, 10, 50]]))).toEqual([]);
});

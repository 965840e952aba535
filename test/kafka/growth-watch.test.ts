import { expect, test } from "bun:test";
import { GrowthWatch } from "../../src/kafka/adapters/growth-watch.ts";

test("the leader's count is compared with the topic's; a follower's, or one from before a rejoin, never is", async () => {
  const watch = new GrowthWatch();
  const count = (n: number) => async () => n;
  watch.joined(false, async () => 3);
  await Bun.sleep(0);
  expect(await watch.grown(count(6))).toBeNull(); // a follower assigns nothing

  watch.joined(true, async () => 3);
  await Bun.sleep(0);
  expect(await watch.grown(count(3))).toBeNull();
  expect(await watch.grown(count(6))).toEqual({ from: 3, to: 6 });

  // a rejoin while the topic was being looked at: that look is about an assignment gone
  let answer: (n: number) => void = () => {};
  const looking = watch.grown(() => new Promise<number>((r) => (answer = r)));
  watch.joined(true, async () => 6);
  answer(9);
  expect(await looking).toBeNull();
  await Bun.sleep(0);
  expect(await watch.grown(count(6))).toBeNull(); // assigned with 6 this time

  watch.reset(); // the consumer closed
  expect(await watch.grown(count(12))).toBeNull();
});

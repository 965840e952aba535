/**
 * Which writer lane a user's orders go to (FNV-1a of the id): one user's orders always go to the
 * same lane, as Kafka keys one user's orders to one partition and so to one consumer.
 */
export function laneOf(key: string, n: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return (h >>> 0) % n;
}

// Ports for the private servers tests start (a Kafka cluster, PostgreSQL, Redis). They are drawn
// below the kernel's ephemeral range (32768 and up on Linux), where outgoing connections take their
// local ports: a port found free there stays free unless another server binds it. The shared
// cluster's ports (19092-19094 for clients, 29093-29095 for its controllers) are never drawn.

const LOW = 20_000;
const HIGH = 32_000;
const SHARED = [
  [19_090, 19_099],
  [29_090, 29_099],
] as const;

function free(port: number): boolean {
  try {
    const server = Bun.listen({ hostname: "127.0.0.1", port, socket: { data() {} } });
    server.stop(true);
    return true;
  } catch {
    return false;
  }
}

/** The first of `count` consecutive ports, all free now, at random in 20000-32000. */
export function freePorts(count = 1): number {
  for (let attempt = 0; attempt < 200; attempt++) {
    const base = LOW + Math.floor(Math.random() * (HIGH - LOW - count));
    const last = base + count - 1;
    if (SHARED.some(([from, to]) => base <= to && last >= from)) continue;
    if (Array.from({ length: count }, (_, i) => base + i).every(free)) return base;
  }
  throw new Error(`no ${count} consecutive free ports between ${LOW} and ${HIGH}`);
}

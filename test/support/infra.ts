import { join } from "node:path";

const INFRA = join(import.meta.dir, "..", "..", "deploy/local/infra.sh");

/** deploy/local/infra.sh `command` with `env`; fails with its output. What the private servers of the tests start and stop with. */
export async function runInfra(command: string, env: Record<string, string>): Promise<void> {
  const proc = Bun.spawn(["bash", INFRA, command], { env, stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  if (code !== 0) throw new Error(`infra.sh ${command} exited ${code}:\n${out}${err}`);
}

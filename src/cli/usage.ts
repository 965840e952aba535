import { describe } from "../errors.ts";

/**
 * A tool's own flags, or null when it should end here: after a usage error (printed with the usage,
 * exit code 2) or after --help (the usage printed, exit code 0).
 */
export function flagsOrUsage<T extends { help?: boolean }>(usage: string, parse: () => T): T | null {
  let flags: T;
  try {
    flags = parse();
  } catch (err) {
    console.error(`${describe(err)}\n${usage}`);
    process.exitCode = 2;
    return null;
  }
  if (flags.help) {
    console.log(usage);
    return null;
  }
  return flags;
}

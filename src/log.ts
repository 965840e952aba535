// One-line logs: time, service name, message. start:all prefixes and colours them per process.

export interface Logger {
  info(msg: string): void;
  warn(msg: string): void;
  error(msg: string, err?: unknown): void;
}

export function logger(service: string): Logger {
  const line = (level: string, msg: string) => `${new Date().toISOString()} ${level} [${service}] ${msg}`;
  return {
    info: (msg) => console.log(line("INFO ", msg)),
    warn: (msg) => console.warn(line("WARN ", msg)),
    error: (msg, err) => console.error(line("ERROR", err === undefined ? msg : `${msg}: ${describe(err)}`)),
  };
}

export function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

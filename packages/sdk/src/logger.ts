// A constant message plus structured fields, so log lines can be grepped by message and filtered by
// task id / pid. Applications can pass their own logger (pino fits this interface).

export type LogLevel = "debug" | "info" | "warn" | "error" | "silent";
export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(fields: LogFields, message: string): void;
  info(fields: LogFields, message: string): void;
  warn(fields: LogFields, message: string): void;
  error(fields: LogFields, message: string): void;
}

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

/** Writes to stderr so that stdout stays free for an application's own output (the examples print markers there). */
export class ConsoleLogger implements Logger {
  constructor(private readonly level: LogLevel = "warn") {}

  debug(fields: LogFields, message: string): void {
    this.write("debug", fields, message);
  }
  info(fields: LogFields, message: string): void {
    this.write("info", fields, message);
  }
  warn(fields: LogFields, message: string): void {
    this.write("warn", fields, message);
  }
  error(fields: LogFields, message: string): void {
    this.write("error", fields, message);
  }

  private write(level: Exclude<LogLevel, "silent">, fields: LogFields, message: string): void {
    if (RANK[level] < RANK[this.level]) return;
    const extra = Object.entries(fields)
      .map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`)
      .join(" ");
    process.stderr.write(`[resonate] ${level} ${message}${extra ? ` ${extra}` : ""}\n`);
  }
}

export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

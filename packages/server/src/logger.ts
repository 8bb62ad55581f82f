import pino from "pino";

/** Readable lines in a terminal, JSON lines otherwise (files, log collectors, CI). */
export function createLogger(level: string, pretty = process.stdout.isTTY === true): pino.Logger {
  return pino({
    level,
    base: undefined,
    ...(pretty && {
      transport: { target: "pino-pretty", options: { colorize: true, translateTime: "SYS:HH:MM:ss.l", ignore: "pid,hostname" } },
    }),
  });
}

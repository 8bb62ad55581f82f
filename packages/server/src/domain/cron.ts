import { CronExpressionParser } from "cron-parser";

// Cron in UTC with standard crontab numbering (day-of-week 0–7, 0 and 7 = Sunday): spec §8.3, C6.
// 5 fields (minute precision) or 6 (leading seconds field).

export function isValidCron(expression: string): boolean {
  const fields = expression.trim().split(/\s+/).length;
  if (!expression.trim().startsWith("@") && (fields < 5 || fields > 6)) return false;
  try {
    CronExpressionParser.parse(expression, { tz: "UTC" });
    return true;
  } catch {
    return false;
  }
}

/** The first occurrence strictly after `after`, at one-second resolution, in ms. */
export function nextOccurrence(expression: string, after: number): number {
  const currentDate = new Date(Math.floor(after / 1000) * 1000);
  return CronExpressionParser.parse(expression, { currentDate, tz: "UTC" }).next().getTime();
}

import { formatDuration } from "../duration";

/** Beyond this a JavaScript Date cannot show it (SDKs use Number.MAX_SAFE_INTEGER for "never"). */
const LAST_DATE_MS = 8.64e15;

/** 2026-04-01 12:00:00Z: UTC, to the second, so that every reader sees the same time. */
export function formatTime(ms: number | undefined): string {
  if (ms === undefined) return "";
  if (ms > LAST_DATE_MS) return "never";
  return new Date(ms).toISOString().replace("T", " ").replace(/\.\d+Z$/, "Z");
}

/** The time plus how far it is from now: "2026-04-01 12:00:00Z (in 59m58s)". */
export function formatTimeFromNow(ms: number | undefined, now = Date.now()): string {
  if (ms === undefined) return "";
  if (ms > LAST_DATE_MS) return "never";
  const delta = ms - now;
  const relative = delta >= 0 ? `in ${formatDuration(delta)}` : `${formatDuration(-delta)} ago`;
  return `${formatTime(ms)} (${relative})`;
}

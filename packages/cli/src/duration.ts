// Durations as the reference CLI writes them: a sequence of <integer><unit>, e.g. 100ms, 30s,
// 1m30s, 1h, 24h, 7d. A bare number is refused (is "60" seconds or milliseconds?) except "0".

const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };
// "ms" before "m" and "s", so that 100ms is not read as 100m + s.
const PART = /(\d+)(ms|s|m|h|d)/y;

/** Milliseconds in a duration; throws an Error that says what is wrong with the text. */
export function parseDuration(text: string): number {
  const input = text.trim();
  if (input === "0") return 0;
  if (input === "") throw new Error("empty duration");
  if (/^\d+$/.test(input)) throw new Error(`duration '${input}' has no unit (write e.g. ${input}s or ${input}ms)`);
  let total = 0;
  PART.lastIndex = 0;
  while (PART.lastIndex < input.length) {
    const start = PART.lastIndex;
    const match = PART.exec(input);
    if (!match) throw new Error(`invalid duration '${input}' at '${input.slice(start)}' (use units ms, s, m, h, d, e.g. 1m30s)`);
    total += Number(match[1]) * UNIT_MS[match[2] as string]!;
  }
  if (!Number.isSafeInteger(total)) throw new Error(`duration '${input}' is too large`);
  return total;
}

/** Milliseconds as a short duration: 90000 → "1m30s", 250 → "250ms", 0 → "0s". */
export function formatDuration(ms: number): string {
  if (ms < 0) return `-${formatDuration(-ms)}`;
  if (ms < 1_000) return `${Math.round(ms)}ms`;
  let rest = Math.round(ms / 1_000);
  const parts: string[] = [];
  for (const [unit, size] of [["d", 86_400], ["h", 3_600], ["m", 60], ["s", 1]] as const) {
    const n = Math.floor(rest / size);
    if (n > 0) parts.push(`${n}${unit}`);
    rest -= n * size;
  }
  return parts.join("") || "0s";
}

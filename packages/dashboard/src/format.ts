// How the dashboard writes times, durations, ids and payloads.

/** 2026-12-05 18:59:34 (the browser's time zone), or "–" for nothing. */
export function dateTime(ms: number | undefined): string {
  if (ms === undefined) return "–";
  const d = new Date(ms);
  const pad = (n: number, w = 2) => String(n).padStart(w, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** 18:59:34.843, for events close together. */
export function clockTime(ms: number): string {
  const d = new Date(ms);
  const pad = (n: number, w = 2) => String(n).padStart(w, "0");
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

/** 850 ms, 4.2 s, 3 min 20 s, 2 h 5 min, 3 d 4 h. */
export function duration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 10_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min${s % 60 ? ` ${s % 60} s` : ""}`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h} h${m % 60 ? ` ${m % 60} min` : ""}`;
  return `${Math.floor(h / 24)} d${h % 24 ? ` ${h % 24} h` : ""}`;
}

/** "4.2 s ago" relative to `now`. */
export function ago(ms: number, now: number): string {
  return `${duration(Math.max(0, now - ms))} ago`;
}

/** SDK process ids are 32 hex digits: their first 8 tell them apart on one screen. */
export function shortPid(pid: string): string {
  return pid.length > 16 ? pid.slice(0, 8) : pid;
}

/** A payload's data (base64) as text, pretty-printed when it is JSON; undefined when there is none. */
export function decodeData(data: string | undefined): { text: string; json: boolean } | undefined {
  if (data === undefined || data === "") return undefined;
  let text: string;
  try {
    const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return { text: `(${Math.floor((data.length * 3) / 4)} bytes, not UTF-8 text) ${data.slice(0, 80)}${data.length > 80 ? "…" : ""}`, json: false };
  }
  try {
    return { text: JSON.stringify(JSON.parse(text), null, 2), json: true };
  } catch {
    return { text, json: false };
  }
}

/** Text as a payload's base64 data. */
export function encodeData(text: string): string {
  const bytes = new TextEncoder().encode(text);
  let binary = "";
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}

import type { Value } from "@resonate-compat/protocol";

// Values on the wire carry base64 in `data`; the SDKs put base64 of JSON there. These helpers turn
// what a user typed into a Value, and a stored Value back into something readable.

/** base64 of the JSON text of `value`: what the SDKs store (spec §3.1, §12.2). */
export function encodeJson(value: unknown): Value {
  return { headers: {}, data: Buffer.from(JSON.stringify(value), "utf8").toString("base64") };
}

/**
 * A Value from a JSON flag (--param, --value, --promise-param). An object whose only keys are
 * `data` and/or `headers` is a Value written out, as the reference CLI takes it: its `data` is
 * base64-encoded (a string as its raw text, anything else as JSON). Any other JSON is the value
 * itself and is encoded as the SDKs encode values, so that a worker can read it.
 */
export function valueFromJson(parsed: unknown): Value {
  if (!isValueShaped(parsed)) return encodeJson(parsed);
  const value: Value = {};
  if (parsed.headers !== undefined) {
    const headers = parsed.headers;
    if (typeof headers !== "object" || headers === null || Array.isArray(headers) ||
      Object.values(headers).some((v) => typeof v !== "string")) {
      throw new Error(`"headers" must be an object of strings`);
    }
    value.headers = headers as Record<string, string>;
  }
  if (parsed.data !== undefined) {
    const raw = typeof parsed.data === "string" ? parsed.data : JSON.stringify(parsed.data);
    value.data = Buffer.from(raw, "utf8").toString("base64");
  }
  return value;
}

function isValueShaped(v: unknown): v is { data?: unknown; headers?: unknown } {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return false;
  const keys = Object.keys(v);
  return keys.length > 0 && keys.every((k) => k === "data" || k === "headers");
}

export type Decoded =
  | { kind: "none" }
  | { kind: "json"; value: unknown }
  /** base64 of UTF-8 text that is not JSON (the reference CLI stores {"data":"text"} so). */
  | { kind: "text"; text: string }
  /** data that is not base64 of text: shown as stored. */
  | { kind: "raw"; data: string };

/** What a Value holds: nothing, a JSON value (decoded from base64), or data we cannot read. */
export function decodeValue(value: Value | undefined): Decoded {
  const data = value?.data;
  if (data === undefined || data === "") return { kind: "none" };
  // Buffer.from ignores characters outside the alphabet; a round trip tells real base64 apart.
  const bytes = Buffer.from(data, "base64");
  if (bytes.toString("base64").replace(/=+$/, "") !== data.replace(/=+$/, "")) return { kind: "raw", data };
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return { kind: "raw", data };
  }
  try {
    return { kind: "json", value: JSON.parse(text) };
  } catch {
    // Control characters other than tab and newlines mean bytes, not text.
    return /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(text) ? { kind: "raw", data } : { kind: "text", text };
  }
}

/** One line for a table cell or a record field. */
export function describeValue(value: Value | undefined): string {
  const decoded = decodeValue(value);
  switch (decoded.kind) {
    case "none":
      return "";
    case "json":
      return JSON.stringify(decoded.value);
    case "text":
      return `${decoded.text} (plain text)`;
    case "raw":
      return `${decoded.data} (base64, binary)`;
  }
}

/** The function an SDK invocation names in its param: {"func","args","version"} (spec §12.2). */
export function invocationOf(param: Value | undefined): { func: string; args: unknown[]; version: number } | undefined {
  const decoded = decodeValue(param);
  if (decoded.kind !== "json" || typeof decoded.value !== "object" || decoded.value === null) return undefined;
  const v = decoded.value as { func?: unknown; args?: unknown; version?: unknown };
  if (typeof v.func !== "string" || !Array.isArray(v.args)) return undefined;
  return { func: v.func, args: v.args, version: typeof v.version === "number" ? v.version : 1 };
}

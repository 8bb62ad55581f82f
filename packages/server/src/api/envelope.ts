import type { ResponseEnvelope } from "@resonate-compat/protocol";
import { PROTOCOL_VERSION, isRecord } from "@resonate-compat/protocol";

// Envelope checks of POST / in the reference's order (spec §2.5 steps 1–4): the first failure wins.

export interface ParsedEnvelope {
  kind: string;
  corrId: string;
  head: Record<string, unknown>;
  data: Record<string, unknown>;
}

export function response(kind: string, corrId: string, status: number, data: unknown): ResponseEnvelope {
  return { kind, head: { corrId, status, version: PROTOCOL_VERSION }, data };
}

/** Returns the parsed envelope, or the error response to send. */
export function parseEnvelope(body: string): ParsedEnvelope | ResponseEnvelope {
  let raw: unknown;
  try {
    raw = JSON.parse(body);
  } catch (error) {
    return response("unknown", "0", 400, `Invalid request envelope: ${(error as Error).message}`);
  }
  const rawKind = isRecord(raw) && typeof raw["kind"] === "string" ? raw["kind"] : "unknown";
  const rawHead = isRecord(raw) ? raw["head"] : undefined;
  const rawCorrId = isRecord(rawHead) && typeof rawHead["corrId"] === "string" ? rawHead["corrId"] : "0";
  const invalid = (detail: string) => response(rawKind, rawCorrId, 400, `Invalid request envelope: ${detail}`);

  if (!isRecord(raw)) return invalid("the body must be a JSON object");
  if (typeof raw["kind"] !== "string") return invalid("'kind' must be a string");
  if (!isRecord(rawHead)) return invalid("'head' must be an object");
  if (typeof rawHead["corrId"] !== "string") return invalid("'head.corrId' must be a string");
  if (typeof rawHead["version"] !== "string") return invalid("'head.version' must be a string");
  if (rawHead["auth"] != null && typeof rawHead["auth"] !== "string") return invalid("'head.auth' must be a string");
  const debugTime = rawHead["resonate:debug_time"];
  if (debugTime != null && !Number.isSafeInteger(debugTime)) return invalid("'head.resonate:debug_time' must be an integer");
  if (!("data" in raw)) return invalid("'data' is required");

  // A lone UTF-16 surrogate cannot be stored as UTF-8: SQLite would keep a different string than
  // the one acknowledged (the reference's JSON parser refuses these escapes too).
  const malformed = mayEscapeSurrogates(body) ? firstMalformedString(raw) : undefined;
  if (malformed !== undefined) return invalid(`${malformed} contains an unpaired UTF-16 surrogate`);

  const kind = raw["kind"];
  const corrId = rawHead["corrId"];
  if (kind === "") return response(kind, corrId, 400, "Missing or invalid 'kind' field — must be a non-empty string");
  if (!isRecord(raw["data"])) return response(kind, corrId, 400, "Invalid 'data' field — must be an object");
  if (rawHead["version"] !== PROTOCOL_VERSION) {
    return response(kind, corrId, 400, `Unsupported protocol version '${rawHead["version"]}', supported versions: ["${PROTOCOL_VERSION}"]`);
  }
  return { kind, corrId, head: rawHead, data: raw["data"] };
}

export function isResponse(value: ParsedEnvelope | ResponseEnvelope): value is ResponseEnvelope {
  return isRecord((value as ResponseEnvelope).head) && "status" in (value as ResponseEnvelope).head;
}

/**
 * Whether the body text has a `\u` escape of a surrogate (U+D800–U+DFFF). The body came from
 * UTF-8, whose decoding never yields a lone surrogate, so only such an escape can put one in a
 * parsed string: without one the walk below (a path string per key, on every request) is skipped.
 */
function mayEscapeSurrogates(body: string): boolean {
  return /\\u[dD][89abcdefABCDEF]/.test(body);
}

/** The path of the first key or string that is not well-formed UTF-16, if any. */
function firstMalformedString(value: unknown, path = "body"): string | undefined {
  if (typeof value === "string") return value.isWellFormed() ? undefined : path;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = firstMalformedString(value[i], `${path}[${i}]`);
      if (found) return found;
    }
    return undefined;
  }
  if (isRecord(value)) {
    for (const [key, item] of Object.entries(value)) {
      if (!key.isWellFormed()) return `a key in ${path}`;
      const found = firstMalformedString(item, `${path}.${key}`);
      if (found) return found;
    }
  }
  return undefined;
}

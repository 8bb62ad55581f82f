import type { Value } from "@resonate-compat/protocol";

// Values on the wire, encoded the way the official TypeScript SDK encodes them, so that our
// client can talk to official workers and the official client to ours:
//   value → JSON (with the markers below) → UTF-8 → base64 in `data`, and `headers: {}`.
//   undefined → `{ headers: {}, data: "" }`; an absent or empty `data` decodes to undefined.
//   ±Infinity → "__INF__" / "__NEG_INF__" (JSON has no infinity).
//   Error → { __type: "error", name, message, stack }; AggregateError → { __type: "aggregate_error",
//   name, message, stack, errors }. Decoding rebuilds an Error with the same name, message and stack
//   (the stack is the remote one: it tells where the function failed).

const INF = "__INF__";
const NEG_INF = "__NEG_INF__";

export class CodecError extends Error {
  override name = "CodecError";
}

export function encode(value: unknown): Value {
  if (value === undefined) return { headers: {}, data: "" };
  let json: string | undefined;
  try {
    json = JSON.stringify(value, (_key, v: unknown) => toJson(v));
  } catch (err) {
    throw new CodecError(`value cannot be encoded as JSON: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  // JSON.stringify answers undefined for a bare function or symbol: encode like undefined.
  return { headers: {}, data: json === undefined ? "" : Buffer.from(json, "utf8").toString("base64") };
}

export function decode(value: Value | undefined): unknown {
  if (!value?.data) return undefined;
  try {
    return JSON.parse(Buffer.from(value.data, "base64").toString("utf8"), (_key, v: unknown) => fromJson(v));
  } catch (err) {
    throw new CodecError(`value cannot be decoded: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}

function toJson(v: unknown): unknown {
  if (v === Number.POSITIVE_INFINITY) return INF;
  if (v === Number.NEGATIVE_INFINITY) return NEG_INF;
  // AggregateError first: it is also an Error.
  if (v instanceof AggregateError) {
    return { __type: "aggregate_error", message: v.message, stack: v.stack, name: v.name, errors: v.errors };
  }
  if (v instanceof Error) return { __type: "error", message: v.message, stack: v.stack, name: v.name };
  return v;
}

function fromJson(v: unknown): unknown {
  if (v === INF) return Number.POSITIVE_INFINITY;
  if (v === NEG_INF) return Number.NEGATIVE_INFINITY;
  if (typeof v !== "object" || v === null || !("__type" in v)) return v;
  const e = v as { __type: unknown; message?: unknown; name?: unknown; stack?: unknown; errors?: unknown };
  const message = typeof e.message === "string" && e.message !== "" ? e.message : "Unknown error";
  let err: Error;
  if (e.__type === "aggregate_error") err = new AggregateError(Array.isArray(e.errors) ? e.errors : [], message);
  else if (e.__type === "error") err = new Error(message);
  else return v;
  if (typeof e.name === "string" && e.name !== "") err.name = e.name;
  if (typeof e.stack === "string") err.stack = e.stack;
  return err;
}

/** What the official SDK puts in the `param` of a root promise: which function to run, with what. */
export interface Invocation {
  func: string;
  args: unknown[];
  version: number;
}

/** Encodes an invocation with the keys in the official order (func, args, version), byte for byte. */
export function encodeInvocation(inv: Invocation): Value {
  return encode({ func: inv.func, args: inv.args, version: inv.version });
}

/** Reads an invocation from a promise param; undefined when the param is not one. */
export function decodeInvocation(param: Value | undefined): Invocation | undefined {
  const data = decode(param);
  if (typeof data !== "object" || data === null) return undefined;
  const d = data as { func?: unknown; args?: unknown; version?: unknown };
  if (typeof d.func !== "string" || !Array.isArray(d.args)) return undefined;
  if (d.version !== undefined && typeof d.version !== "number") return undefined;
  return { func: d.func, args: d.args, version: d.version ?? 1 };
}

import { describe, expect, it } from "vitest";
import { CodecError, decode, decodeInvocation, encode, encodeInvocation } from "../src/codec";

// Expected encodings were produced by the official SDK 0.11.5 codec (Codec#encode) for the same
// inputs, so these tests pin byte-for-byte wire compatibility.
const OFFICIAL = {
  num: { headers: {}, data: "ODQ=" },
  str: { headers: {}, data: "ImjDqWxsbyDinJMi" },
  obj: { headers: {}, data: "eyJhIjpbMSwyLHsiYiI6bnVsbH1dLCJjIjp0cnVlfQ==" },
  inf: { headers: {}, data: "WyJfX0lORl9fIiwiX19ORUdfSU5GX18iLDFd" },
  err: { headers: {}, data: "eyJfX3R5cGUiOiJlcnJvciIsIm1lc3NhZ2UiOiJrYWJvb20iLCJzdGFjayI6IkVycm9yOiBrYWJvb21cbiAgICBhdCBoZXJlIiwibmFtZSI6IkVycm9yIn0=" },
  typeErr: { headers: {}, data: "eyJfX3R5cGUiOiJlcnJvciIsIm1lc3NhZ2UiOiJiYWQiLCJzdGFjayI6IlR5cGVFcnJvcjogYmFkIiwibmFtZSI6IlR5cGVFcnJvciJ9" },
  agg: { headers: {}, data: "eyJfX3R5cGUiOiJhZ2dyZWdhdGVfZXJyb3IiLCJtZXNzYWdlIjoibWFueSIsInN0YWNrIjoiQWdncmVnYXRlRXJyb3I6IG1hbnkiLCJuYW1lIjoiQWdncmVnYXRlRXJyb3IiLCJlcnJvcnMiOlsxLCJ0d28iXX0=" },
  // spec §3.2 / §12.2: base64 of {"func":"computeSomething","args":[42],"version":1}
  inv: { headers: {}, data: "eyJmdW5jIjoiY29tcHV0ZVNvbWV0aGluZyIsImFyZ3MiOls0Ml0sInZlcnNpb24iOjF9" },
};

function withStack<E extends Error>(err: E, stack: string): E {
  err.stack = stack;
  return err;
}

describe("codec", () => {
  it("encodes values exactly as the official SDK", () => {
    expect(encode(84)).toEqual(OFFICIAL.num);
    expect(encode("héllo ✓")).toEqual(OFFICIAL.str);
    expect(encode({ a: [1, 2, { b: null }], c: true })).toEqual(OFFICIAL.obj);
    expect(encode([Infinity, -Infinity, 1])).toEqual(OFFICIAL.inf);
  });

  it("encodes errors exactly as the official SDK", () => {
    expect(encode(withStack(new Error("kaboom"), "Error: kaboom\n    at here"))).toEqual(OFFICIAL.err);
    expect(encode(withStack(new TypeError("bad"), "TypeError: bad"))).toEqual(OFFICIAL.typeErr);
    expect(encode(withStack(new AggregateError([1, "two"], "many"), "AggregateError: many"))).toEqual(OFFICIAL.agg);
  });

  it("encodes the invocation of an rpc root in the official key order", () => {
    expect(encodeInvocation({ func: "computeSomething", args: [42], version: 1 })).toEqual(OFFICIAL.inv);
    expect(decodeInvocation(OFFICIAL.inv)).toEqual({ func: "computeSomething", args: [42], version: 1 });
  });

  it("encodes undefined as empty data and decodes empty or absent data as undefined", () => {
    expect(encode(undefined)).toEqual({ headers: {}, data: "" });
    expect(decode({ headers: {}, data: "" })).toBeUndefined();
    expect(decode({})).toBeUndefined();
    expect(decode(undefined)).toBeUndefined();
  });

  it("round-trips values", () => {
    for (const v of [0, -1.5, "", "ünïcødé 🎉", null, true, [1, [2, [3]]], { nested: { deep: [Infinity] } }]) {
      expect(decode(encode(v))).toEqual(v);
    }
  });

  it("decodes errors into Errors with name, message and the remote stack", () => {
    const err = decode(OFFICIAL.typeErr);
    expect(err).toBeInstanceOf(Error);
    expect(err).toMatchObject({ name: "TypeError", message: "bad", stack: "TypeError: bad" });
    const agg = decode(OFFICIAL.agg) as AggregateError;
    expect(agg).toBeInstanceOf(AggregateError);
    expect(agg.errors).toEqual([1, "two"]);
    const nested = decode(encode({ failures: [new RangeError("r")] })) as { failures: Error[] };
    expect(nested.failures[0]).toBeInstanceOf(Error);
    expect(nested.failures[0]!.name).toBe("RangeError");
  });

  it("reports what cannot be encoded or decoded", () => {
    expect(() => encode({ big: 1n })).toThrow(CodecError);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => encode(cyclic)).toThrow(CodecError);
    expect(() => decode({ data: Buffer.from("{not json").toString("base64") })).toThrow(CodecError);
  });

  it("reads only well-formed invocations", () => {
    expect(decodeInvocation(encode({ func: "f", args: [] }))).toEqual({ func: "f", args: [], version: 1 });
    expect(decodeInvocation(encode({ func: "f", args: [], version: 2, retry: { type: "never", data: {} } }))).toEqual({ func: "f", args: [], version: 2 });
    expect(decodeInvocation(encode({ func: 1, args: [] }))).toBeUndefined();
    expect(decodeInvocation(encode({ func: "f", args: "x" }))).toBeUndefined();
    expect(decodeInvocation(encode({ func: "f", args: [], version: "1" }))).toBeUndefined();
    expect(decodeInvocation({})).toBeUndefined();
  });
});

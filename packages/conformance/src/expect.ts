// Assertions that fail with a sentence a reader of the report can act on ("promise.create: expected
// status 200, got 400 …"), instead of a stack trace.
import { isDeepStrictEqual } from "node:util";
import type { Reply } from "./api.js";

export class CheckFailure extends Error {}

/** Thrown by a check that cannot run against this server; the report lists it as skipped. */
export class Skip extends Error {}

export function fail(message: string): never {
  throw new CheckFailure(message);
}

export function show(v: unknown, max = 300): string {
  const s = v === undefined ? "undefined" : JSON.stringify(v);
  return s.length > max ? `${s.slice(0, max)}…` : s;
}

/** Asserts the protocol status and that the HTTP status equals it (§2.3); returns `data`. */
export function status(reply: Reply, expected: number, what: string): any {
  if (reply.status !== expected || reply.httpStatus !== expected) {
    const got = Number.isNaN(reply.status) ? `HTTP ${reply.httpStatus} with body ${show(reply.body)}` : `${reply.status} (HTTP ${reply.httpStatus}) ${show(reply.data)}`;
    fail(`${what}: expected status ${expected}, got ${got}`);
  }
  return reply.data;
}

export function ok(cond: unknown, message: string): asserts cond {
  if (!cond) fail(message);
}

export function equal(actual: unknown, expected: unknown, what: string): void {
  if (!isDeepStrictEqual(actual, expected)) fail(`${what}: expected ${show(expected)}, got ${show(actual)}`);
}

/** Every key of `expected` is in `actual` with a deep-equal value (other keys allowed). */
export function matches(actual: unknown, expected: Record<string, unknown>, what: string): void {
  if (actual === null || typeof actual !== "object") fail(`${what}: expected an object, got ${show(actual)}`);
  for (const [k, v] of Object.entries(expected)) {
    const a = (actual as Record<string, unknown>)[k];
    if (v === undefined) {
      if (k in (actual as object)) fail(`${what}: '${k}' must be absent, got ${show(a)}`);
    } else if (!isDeepStrictEqual(a, v)) fail(`${what}: '${k}' expected ${show(v)}, got ${show(a)} (in ${show(actual)})`);
  }
}

/** Polls `probe` until it returns a value (not undefined) or the deadline passes. */
export async function eventually<T>(probe: () => Promise<T | undefined>, timeoutMs: number, what: string, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() >= deadline) fail(`${what} did not happen within ${timeoutMs} ms`);
    await sleep(everyMs);
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

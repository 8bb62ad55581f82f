import { InvalidArgumentError } from "commander";
import type { Tags, Value } from "@resonate-compat/protocol";
import { parseDuration } from "./duration";
import { valueFromJson } from "./values";

// Parsers for option and argument values, for commander's argParser. A bad value throws
// InvalidArgumentError, which commander reports as one line naming the flag (exit code 2).

function invalid(error: unknown): never {
  throw new InvalidArgumentError(error instanceof Error ? error.message : String(error));
}

export function duration(text: string): number {
  try {
    return parseDuration(text);
  } catch (error) {
    return invalid(error);
  }
}

/** Settings the reference gives in milliseconds: a plain integer is ms, or a duration (30s). */
export function milliseconds(text: string): number {
  if (/^\d+$/.test(text.trim())) return Number(text);
  return duration(text);
}

export function integer(text: string): number {
  if (!/^-?\d+$/.test(text.trim())) invalid(new Error(`'${text}' is not an integer`));
  const n = Number(text);
  if (!Number.isSafeInteger(n)) invalid(new Error(`'${text}' is too large`));
  return n;
}

export function positiveInteger(text: string): number {
  const n = integer(text);
  if (n < 1) invalid(new Error(`must be a positive integer`));
  return n;
}

export function nonNegativeInteger(text: string): number {
  const n = integer(text);
  if (n < 0) invalid(new Error(`must not be negative`));
  return n;
}

export function json(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    return invalid(new Error(`not valid JSON (${(error as Error).message})`));
  }
}

export function jsonObject(text: string): Record<string, unknown> {
  const v = json(text);
  if (typeof v !== "object" || v === null || Array.isArray(v)) invalid(new Error("must be a JSON object"));
  return v as Record<string, unknown>;
}

export function jsonArray(text: string): unknown[] {
  const v = json(text);
  if (!Array.isArray(v)) invalid(new Error("must be a JSON array"));
  return v as unknown[];
}

/** Tags: a JSON object whose values are strings (the protocol has no other tag values). */
export function tags(text: string): Tags {
  const v = jsonObject(text);
  const bad = Object.entries(v).find(([, value]) => typeof value !== "string");
  if (bad) invalid(new Error(`tag '${bad[0]}' must be a string`));
  return v as Tags;
}

/** A value flag (--param, --value, …): JSON, base64-encoded into `data` (see valueFromJson). */
export function value(text: string): Value {
  try {
    return valueFromJson(json(text));
  } catch (error) {
    if (error instanceof InvalidArgumentError) throw error;
    return invalid(error);
  }
}

/** A repeatable flag: every occurrence is kept, in order. */
export function collect(text: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), text];
}

import { isValidAddress, targetFromOption } from "@resonate-compat/protocol";

// Per-call options of beginRpc/rpc, built by `resonate.options({...})` and passed as the last
// argument (as in the official SDK). The brand tells them apart from an ordinary last argument.

const OPTIONS = Symbol.for("@resonate-compat/sdk/options");

export interface CallOptions {
  /** Where the task goes: `poll://any@workers`, a bare group name (`workers`), or an http(s) url. Default: `default`. */
  target: string;
  /** Relative deadline in ms; the promise times out after it. Default: 24 h. */
  timeout: number;
  /** Extra tags for the promise; the reserved `resonate:*` tags the SDK sets win over these. */
  tags: Record<string, string>;
  /** Which version of the function to run; 0 means the latest the worker has (sent as 1, like the official SDK). */
  version: number;
}

export type Options = Readonly<CallOptions> & { readonly [OPTIONS]: true };

export const DEFAULT_TIMEOUT = 24 * 60 * 60 * 1000;

export function buildOptions(partial: Partial<CallOptions> = {}): Options {
  const target = targetFromOption(partial.target ?? "default");
  if (!isValidAddress(target)) {
    throw new TypeError(`Invalid target "${partial.target}": use a group name, poll://any@<group>[/<pid>], or an http(s) url`);
  }
  const timeout = partial.timeout ?? DEFAULT_TIMEOUT;
  if (!Number.isInteger(timeout) || timeout <= 0) throw new TypeError(`timeout must be a positive integer of ms (got ${timeout})`);
  const version = partial.version ?? 0;
  if (!Number.isInteger(version) || version < 0) throw new TypeError(`version must be a non-negative integer (got ${version})`);
  const tags = { ...(partial.tags ?? {}) };
  for (const [k, v] of Object.entries(tags)) {
    if (typeof v !== "string") throw new TypeError(`tag "${k}" must be a string`);
  }
  return Object.freeze({ target, timeout, tags, version, [OPTIONS]: true as const });
}

export function isOptions(v: unknown): v is Options {
  return typeof v === "object" && v !== null && (v as Record<symbol, unknown>)[OPTIONS] === true;
}

/** Splits `...args, options?` into the arguments and the options (defaults when none was given). */
export function splitArgs(argsAndOptions: unknown[]): [unknown[], Options] {
  const last = argsAndOptions.at(-1);
  return isOptions(last) ? [argsAndOptions.slice(0, -1), last] : [argsAndOptions, buildOptions()];
}

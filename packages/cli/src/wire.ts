import type { PromiseRecord } from "@resonate-compat/protocol";

// The few protocol constants the CLI needs at run time. @resonate-compat/protocol exports them too,
// but its entry point also loads zod for its request schemas, which is about a third of the CLI's
// start-up time; the CLI takes only types from it. test/wire.test.ts checks that these agree.

/** The protocol version every envelope carries (spec §2.2). */
export const PROTOCOL_VERSION = "2026-04-01";

/** Reserved tags (spec §4.3) the CLI sets or reads. */
export const TAG = {
  target: "resonate:target",
  timer: "resonate:timer",
  delay: "resonate:delay",
  origin: "resonate:origin",
  branch: "resonate:branch",
  parent: "resonate:parent",
  scope: "resonate:scope",
} as const;

/** The address of one process's stream only (spec §4.4). */
export function unicastAddress(group: string, pid: string): string {
  return `poll://uni@${group}/${pid}`;
}

/** As the SDKs read a target option: an address stays, a bare name is a group (poll://any@name). */
export function targetAddress(target: string): string {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(target) ? target : `poll://any@${target}`;
}

/** The promise an `unblock` message carries (spec §7.1); undefined for anything else. */
export function unblockedPromise(text: string): PromiseRecord | undefined {
  let message: unknown;
  try {
    message = JSON.parse(text);
  } catch {
    return undefined;
  }
  const m = message as { kind?: unknown; data?: { promise?: { id?: unknown; state?: unknown } } };
  if (m.kind !== "unblock") return undefined;
  const promise = m.data?.promise;
  if (typeof promise?.id !== "string" || typeof promise.state !== "string") return undefined;
  return promise as PromiseRecord;
}

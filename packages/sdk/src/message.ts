import type { ExecuteMessage, Message, UnblockMessage } from "@resonate-compat/protocol";

// Shape checks for messages arriving on the poll stream (spec §7.1). A message that fails them is
// dropped with a warning, like the official SDK does: a stream is never torn down over one bad event.
// (These guards would sit well next to the Message types in @resonate-compat/protocol.)

export function parseMessage(text: string): Message | undefined {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isObject(v) || !isObject(v.head) || !isObject(v.data)) return undefined;
  if (v.kind === "execute") {
    if (v.head.serverUrl !== undefined && typeof v.head.serverUrl !== "string") return undefined;
    const task = v.data.task;
    if (!isObject(task) || typeof task.id !== "string" || !Number.isInteger(task.version)) return undefined;
    return v as unknown as ExecuteMessage;
  }
  if (v.kind === "unblock") {
    const promise = v.data.promise;
    if (!isObject(promise) || typeof promise.id !== "string" || typeof promise.state !== "string") return undefined;
    return v as unknown as UnblockMessage;
  }
  return undefined;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

import type { ExecuteMessage, Message, UnblockMessage } from "./messages";
import { isRecord } from "./schemas";

/**
 * Reads a message from a poll stream event (spec §7.1); undefined when it is not one. Receivers
 * drop such events with a warning, as the official SDK does: one bad event never ends a stream.
 */
export function parseMessage(text: string): Message | undefined {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isRecord(v) || !isRecord(v["head"]) || !isRecord(v["data"])) return undefined;
  const { head, data } = v;
  if (v["kind"] === "execute") {
    if (head["serverUrl"] !== undefined && typeof head["serverUrl"] !== "string") return undefined;
    const task = data["task"];
    if (!isRecord(task) || typeof task["id"] !== "string" || !Number.isInteger(task["version"])) return undefined;
    return v as unknown as ExecuteMessage;
  }
  if (v["kind"] === "unblock") {
    const promise = data["promise"];
    if (!isRecord(promise) || typeof promise["id"] !== "string" || typeof promise["state"] !== "string") return undefined;
    return v as unknown as UnblockMessage;
  }
  return undefined;
}

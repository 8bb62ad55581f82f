import type { TaskEvent } from "./api/types";
import { duration, shortPid } from "./format";

// A task's dispatch events in plain words, as an operator would tell them: whom it was offered to
// and why, who took it, what lapsed or was taken back. The same story `resonate history` prints.

export function describeEvent(e: TaskEvent): string {
  const d = e.detail ?? {};
  const pid = e.pid === undefined ? "?" : shortPid(e.pid);
  const on = e.replica === undefined ? "" : ` on ${e.replica}`;
  switch (e.event) {
    case "created":
      if (d["by"] === "task.create") return "created and taken at once by its caller (task.create)";
      if (typeof d["delayedUntil"] === "number") return `created, delayed until ${new Date(d["delayedUntil"]).toLocaleString()}`;
      return `created${typeof d["target"] === "string" ? ` for ${d["target"]}` : ""}`;
    case "offered":
    case "reoffered": {
      if (typeof d["url"] === "string") return `sent to ${d["url"]}`;
      const verb = e.event === "offered" ? "offered to" : "nobody took it in time: re-offered to";
      return `${verb} ${pid}${on} ${why(d, e.event === "reoffered")}`;
    }
    case "unrouted":
      return `not offered: ${typeof d["why"] === "string" ? d["why"].replace(/^(message|re-offer) dropped: /, "") : "no worker connected"}`;
    case "retried":
      return `still pending after the retry timeout: sent again (version ${e.version})`;
    case "acquired":
      return `acquired by ${pid}${on} (version ${e.version}${typeof d["ttl"] === "number" ? `, lease ${duration(d["ttl"])}` : ""})`;
    case "extended":
      return e.count > 1 ? `lease extended by ${pid}, ${e.count} times` : `lease extended by ${pid}`;
    case "lapsed":
      return `${pid}'s lease lapsed without a heartbeat: back to pending`;
    case "recovered":
      return `${pid}'s stream closed and it did not come back: lease taken back`;
    case "released":
      return `released by ${pid}: back to pending`;
    case "refused":
      return `refused a stale ${String(d["op"] ?? "write")}${e.pid ? ` from ${pid}` : ""} at version ${String(d["staleVersion"])} (the task is at version ${e.version}, ${String(d["state"])})`;
    case "suspended":
      return `suspended by ${pid}, awaiting ${String(d["awaiting"] ?? "?")} promise(s)`;
    case "resumed":
      return `resumed: ${String(d["settled"] ?? "an awaited promise")} settled`;
    case "fulfilled":
      return `fulfilled${e.pid ? ` by ${pid}` : ""} (promise ${String(d["promise"] ?? "settled")})`;
    case "halted":
      return "halted";
    case "continued":
      return "continued: back to pending";
    default:
      return e.event;
  }
}

/** Why a worker was chosen: "(it held 2 tasks, the least loaded of 3)". */
function why(d: Record<string, unknown>, reoffer: boolean): string {
  if (d["how"] === "addressed") return "(the process its address named)";
  const held = Number(d["held"] ?? 0);
  const offered = Number(d["offered"] ?? 0);
  const candidates = Number(d["candidates"] ?? 1);
  const load = `it held ${held} task${held === 1 ? "" : "s"}${offered > 0 ? ` and had ${offered} offered` : ""}`;
  if (candidates <= 1) return `(${load}; the only ${reoffer ? "other " : ""}worker of the group)`;
  return `(${load}, the least loaded of ${candidates})`;
}

/** Events that mean work was lost from a worker: drawn in the warning colour. */
export const TROUBLE = new Set(["lapsed", "recovered", "refused", "unrouted", "reoffered"]);

import type { Command } from "commander";
import { contextOf } from "../context";
import { formatDuration } from "../duration";

// resonate history <task-id>: the task's dispatch timeline in plain words — whom it was offered to
// and why, who took it, what lapsed or was taken back, which stale write was refused — from the
// server's admin API (GET /admin/tasks/<id>/history; resonate-compat's own, not the protocol).

export interface HistoryEvent {
  seq: number;
  at: number;
  event: string;
  version?: number;
  pid?: string;
  replica?: string;
  count: number;
  lastAt?: number;
  detail?: Record<string, unknown>;
}

export interface History {
  id: string;
  task: { state: string; version: number; pid?: string } | null;
  events: HistoryEvent[];
}

export function registerHistory(program: Command): void {
  program
    .command("history")
    .description("show a task's dispatch history: offers and why, acquires, lapses, recoveries, refusals (admin API)")
    .argument("<task-id>", "the task's id (its promise's id)")
    .option("--limit <n>", "at most this many events", "1000")
    .action(async (id: string, options: { limit: string }, command: Command) => {
      const { client, out } = contextOf(command);
      const history = await client.admin<History>(`tasks/${encodeURIComponent(id)}/history`, { limit: options.limit });
      out.result(history, () => renderHistory(history).join("\n"));
    });
}

/** The header line, then one line per event: "12:00:01.234  offered to 9c1e… on r1 (…)". */
export function renderHistory(history: History): string[] {
  const { task, events } = history;
  const day = events.length > 0 ? new Date(events[0]!.at).toISOString().slice(0, 10) : undefined;
  const state = task ? `${task.state} at version ${task.version}${task.pid ? `, held by ${short(task.pid)}` : ""}` : "gone (only its history is left)";
  const lines = [`task ${history.id}: ${state}${day ? `; times UTC, from ${day}` : ""}`];
  for (const e of events) lines.push(`${clock(e.at)}  ${describeEvent(e)}`);
  if (events.length === 0) lines.push("(no events: the history was off or has been pruned)");
  return lines;
}

export function describeEvent(e: HistoryEvent): string {
  const d = e.detail ?? {};
  const pid = e.pid === undefined ? "?" : short(e.pid);
  const on = e.replica === undefined ? "" : ` on ${e.replica}`;
  switch (e.event) {
    case "created":
      if (d["by"] === "task.create") return `created and taken at once by its caller (task.create)`;
      if (typeof d["delayedUntil"] === "number") return `created, delayed until ${clock(d["delayedUntil"])}`;
      return `created${typeof d["target"] === "string" ? ` for ${d["target"]}` : ""}`;
    case "offered":
    case "reoffered": {
      if (typeof d["url"] === "string") return `sent to ${d["url"]}`;
      const verb = e.event === "offered" ? "offered to" : "nobody took it in time: re-offered to";
      return `${verb} ${pid}${on} ${why(d, e.event === "reoffered")}`;
    }
    case "unrouted":
      return `not offered: ${typeof d["why"] === "string" ? d["why"].replace(/^(message|re-offer) dropped: /, "") : "no stream"}`;
    case "retried":
      return `still pending after the retry timeout: sent again (version ${e.version})`;
    case "acquired":
      return `acquired by ${pid}${on} (version ${e.version}${typeof d["ttl"] === "number" ? `, lease ${formatDuration(d["ttl"])}` : ""})`;
    case "extended":
      return e.count > 1 && e.lastAt !== undefined
        ? `lease extended by ${pid}, ${e.count} times until ${clock(e.lastAt)}`
        : `lease extended by ${pid}`;
    case "lapsed":
      return `${pid}'s lease lapsed without a heartbeat: back to pending`;
    case "recovered":
      return `${pid}'s stream closed and it did not come back within the grace: lease taken back`;
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

/** Why a stream was chosen: "(it held 2 tasks, the least loaded of 3)". */
function why(d: Record<string, unknown>, reoffer: boolean): string {
  if (d["how"] === "addressed") return "(the process its address named)";
  const held = Number(d["held"] ?? 0);
  const offered = Number(d["offered"] ?? 0);
  const candidates = Number(d["candidates"] ?? 1);
  const load = `it held ${held} task${held === 1 ? "" : "s"}${offered > 0 ? ` and had ${offered} offered` : ""}`;
  if (candidates <= 1) return `(${load}; the only ${reoffer ? "other " : ""}worker of the group)`;
  return `(${load}, the least loaded of ${candidates})`;
}

/** 12:00:01.234 (UTC). */
function clock(ms: number): string {
  return new Date(ms).toISOString().slice(11, 23);
}

/** Long process ids (SDKs use 32 hex digits) as their first 8 characters. */
function short(pid: string): string {
  return pid.length > 16 ? `${pid.slice(0, 8)}…` : pid;
}

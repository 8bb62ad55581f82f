import { type TaskHistory, describeTaskEvent } from "@resonate-compat/protocol/admin-history";
import type { Command } from "commander";
import { contextOf } from "../context";
import { formatDuration } from "../duration";

// resonate history <task-id>: the task's dispatch timeline in plain words — whom it was offered to
// and why, who took it, what lapsed or was taken back, which stale write was refused — from the
// server's admin API (GET /admin/tasks/<id>/history; resonate-compat's own, not the protocol).

export function registerHistory(program: Command): void {
  program
    .command("history")
    .description("show a task's dispatch history: offers and why, acquires, lapses, recoveries, refusals (admin API)")
    .argument("<task-id>", "the task's id (its promise's id)")
    .option("--limit <n>", "at most this many events", "1000")
    .action(async (id: string, options: { limit: string }, command: Command) => {
      const { client, out } = contextOf(command);
      const history = await client.admin<TaskHistory>(`tasks/${encodeURIComponent(id)}/history`, { limit: options.limit });
      out.result(history, () => renderHistory(history).join("\n"));
    });
}

/** The header line, then one line per event: "12:00:01.234  offered to 9c1e… on r1 (…)". */
export function renderHistory(history: TaskHistory): string[] {
  const { task, events } = history;
  const day = events.length > 0 ? new Date(events[0]!.at).toISOString().slice(0, 10) : undefined;
  const state = task ? `${task.state} at version ${task.version}${task.pid ? `, held by ${short(task.pid)}` : ""}` : "gone (only its history is left)";
  const lines = [`task ${history.id}: ${state}${day ? `; times UTC, from ${day}` : ""}`];
  for (const e of events) lines.push(`${clock(e.at)}  ${describeTaskEvent(e, { time: clock, duration: formatDuration, pid: short })}`);
  if (events.length === 0) lines.push("(no events: the history was off or has been pruned)");
  return lines;
}

/** 12:00:01.234 (UTC). */
function clock(ms: number): string {
  return new Date(ms).toISOString().slice(11, 23);
}

/** Long process ids (SDKs use 32 hex digits) as their first 8 characters. */
function short(pid: string): string {
  return pid.length > 16 ? `${pid.slice(0, 8)}…` : pid;
}

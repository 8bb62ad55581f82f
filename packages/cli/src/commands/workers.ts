import type { GroupView } from "@resonate-compat/protocol/admin-overview";
import type { Command } from "commander";
import { contextOf } from "../context";
import { formatDuration } from "../duration";
import { table } from "../output/table";
import { formatTime } from "../output/time";

// resonate workers / resonate backlog: who is connected to each group and what waits for them,
// from the server's admin API (GET /admin/groups; resonate-compat's own, not the protocol). With
// several replicas any one answers for all: workers come from the shared stream directory and the
// backlog from the database.

export function registerWorkers(program: Command): void {
  program
    .command("workers")
    .description("list the worker processes connected to each group, with the tasks they hold (admin API)")
    .option("-g, --group <name>", "only this group")
    .action(async (options: { group?: string }, command: Command) => {
      const { client, out } = contextOf(command);
      const { groups } = await client.admin<{ groups: GroupView[] }>("groups", { group: options.group });
      const now = Date.now();
      out.result({ groups }, () => {
        const rows = groups.flatMap((g) =>
          g.workers.map((w) => [g.group, w.pid, w.replica, String(w.tasks), `${formatTime(w.connectedSince)} (${formatDuration(Math.max(0, now - w.connectedSince))} ago)`]),
        );
        if (rows.length === 0) return options.group === undefined ? "no worker connected" : `no worker connected to ${options.group}`;
        return table(["GROUP", "PID", "REPLICA", "TASKS", "CONNECTED"], rows);
      });
    });

  program
    .command("backlog")
    .description("per group: workers, pending tasks, tasks in flight and the oldest pending task's age (admin API)")
    .option("-g, --group <name>", "only this group")
    .action(async (options: { group?: string }, command: Command) => {
      const { client, out } = contextOf(command);
      const { groups } = await client.admin<{ groups: GroupView[] }>("groups", { group: options.group });
      out.result({ groups: groups.map(({ workers, ...g }) => ({ ...g, workers: workers.length })) }, () => {
        if (groups.length === 0) return "no group has a worker or a task";
        return table(
          ["GROUP", "WORKERS", "PENDING", "IN FLIGHT", "OLDEST PENDING"],
          groups.map((g) => [g.group, String(g.workers.length), String(g.pending), String(g.acquired), g.oldestPendingAgeMs === undefined ? "-" : formatDuration(g.oldestPendingAgeMs)]),
        );
      });
    });
}

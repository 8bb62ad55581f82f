import { useEffect } from "preact/hooks";
import { admin } from "../api/client";
import type { TaskHistory } from "../api/types";
import { Link } from "../components/link";
import { Problem } from "../components/problem";
import { StateBadge } from "../components/state-badge";
import { TaskTimeline } from "../components/task-timeline";
import { useAsync } from "../components/use-async";
import { clockTime, dateTime, shortPid } from "../format";
import { TROUBLE, describeEvent } from "../history-words";
import { paths } from "../router";

// A task's dispatch history (GET /admin/tasks/<id>/history): where the server sent it and why, who
// took it, what lapsed or was taken back — in words, then on a time axis. Read again every few
// seconds while the task can still move, so that a recovery can be watched as it happens.

const REFRESH_MS = 2000;
const SETTLED = new Set(["fulfilled", "halted"]);

export function TaskHistoryPage({ id }: { id: string }) {
  const history = useAsync(() => admin<TaskHistory>(`tasks/${encodeURIComponent(id)}/history`), [id]);
  const state = history.value?.task?.state;
  const moving = state !== undefined && !SETTLED.has(state);
  useEffect(() => {
    if (!moving) return undefined;
    const timer = setInterval(history.reload, REFRESH_MS);
    return () => clearInterval(timer);
  }, [moving, history.reload]);
  return (
    <main>
      <p class="crumbs">
        <Link to={paths.promise(id)}>Promise {id}</Link> /
      </p>
      <h1 class="id-title">Dispatch history of {id}</h1>
      {history.error && <Problem error={history.error} missing={`No task with the id "${id}", and no history for it.`} />}
      {history.loading && !history.value && <p class="muted">Loading…</p>}
      {history.value && (
        <>
          <p data-testid="task-state">
            {history.value.task ? (
              <>
                Now <StateBadge state={history.value.task.state} /> at version {history.value.task.version}
                {history.value.task.pid && (
                  <>
                    , held by <code title={history.value.task.pid}>{shortPid(history.value.task.pid)}</code>
                  </>
                )}
                .
              </>
            ) : (
              "The task is gone; only its history is left."
            )}{" "}
            <button type="button" onClick={history.reload}>
              Refresh
            </button>
          </p>
          {history.value.events.length === 0 ? (
            <p class="muted">No events: the history was off or has been pruned.</p>
          ) : (
            <>
              <h2>What happened</h2>
              <p class="muted small">Times are this browser's, from {dateTime(history.value.events[0]!.at)}.</p>
              <ol class="events" data-testid="events">
                {history.value.events.map((e) => (
                  <li key={e.seq} data-event={e.event} class={TROUBLE.has(e.event) ? "trouble" : undefined}>
                    <time dateTime={new Date(e.at).toISOString()}>{clockTime(e.at)}</time> <span>{describeEvent(e)}</span>
                  </li>
                ))}
              </ol>
              <h2>On a time axis</h2>
              <TaskTimeline events={history.value.events} now={Date.now()} />
            </>
          )}
        </>
      )}
    </main>
  );
}

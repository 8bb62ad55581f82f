import { useState } from "preact/hooks";
import { protocol } from "../api/client";
import type { ScheduleRecord } from "../api/types";
import { ConfirmDialog } from "../components/confirm-dialog";
import { Link } from "../components/link";
import { Problem } from "../components/problem";
import { useAsync } from "../components/use-async";
import { dateTime, decodeData, duration } from "../format";
import { navigate, paths } from "../router";

// One schedule (schedule.get), its promises so far (a search by id prefix), and its deletion
// (schedule.delete) after a confirmation.

export function ScheduleDetailPage({ id }: { id: string }) {
  const schedule = useAsync(() => protocol<{ schedule: ScheduleRecord }>("schedule.get", { id }).then((r) => r.schedule), [id]);
  const [deleting, setDeleting] = useState(false);
  const s = schedule.value;
  const param = s && decodeData(s.promiseParam.data);
  const firstPart = s?.promiseId.split("{{")[0] ?? "";
  return (
    <main>
      <p class="crumbs">
        <Link to={paths.schedules()}>Schedules</Link> /
      </p>
      <h1 class="id-title">{id}</h1>
      {schedule.error && <Problem error={schedule.error} missing={`No schedule with the id "${id}".`} />}
      {schedule.loading && !schedule.value && <p class="muted">Loading…</p>}
      {s && (
        <>
          <dl class="facts" data-testid="schedule-facts">
            <div>
              <dt>Cron (UTC)</dt>
              <dd>
                <code>{s.cron}</code>
              </dd>
            </div>
            <div>
              <dt>Next run</dt>
              <dd>{dateTime(s.nextRunAt)}</dd>
            </div>
            <div>
              <dt>Last run</dt>
              <dd>{dateTime(s.lastRunAt)}</dd>
            </div>
            <div>
              <dt>Created</dt>
              <dd>{dateTime(s.createdAt)}</dd>
            </div>
            <div>
              <dt>Promise id</dt>
              <dd>
                <code>{s.promiseId}</code>
              </dd>
            </div>
            <div>
              <dt>Promise timeout</dt>
              <dd>{duration(s.promiseTimeout)}</dd>
            </div>
          </dl>
          <h2>Param</h2>
          {param ? <pre>{param.text}</pre> : <p class="muted">none</p>}
          <h2>Tags of its promises</h2>
          <ul>
            {Object.entries(s.promiseTags).map(([k, v]) => (
              <li key={k}>
                <code>{k}</code>: {v}
              </li>
            ))}
          </ul>
          {firstPart && (
            <p>
              <Link to={paths.invocations(new URLSearchParams({ prefix: firstPart }).toString())}>Promises whose id starts with “{firstPart}”</Link>
            </p>
          )}
          <div class="actions">
            <button type="button" class="danger" onClick={() => setDeleting(true)}>
              Delete…
            </button>
          </div>
          {deleting && (
            <ConfirmDialog
              title={`Delete the schedule ${id}?`}
              confirmLabel="Delete"
              danger
              onClose={() => setDeleting(false)}
              onConfirm={async () => {
                await protocol("schedule.delete", { id });
                navigate(paths.schedules());
              }}
            >
              <p>It creates no more promises. The promises it created stay as they are.</p>
            </ConfirmDialog>
          )}
        </>
      )}
    </main>
  );
}

import { useState } from "preact/hooks";
import { protocol } from "../api/client";
import type { ScheduleRecord } from "../api/types";
import { Link } from "../components/link";
import { Problem } from "../components/problem";
import { useAsync } from "../components/use-async";
import { dateTime, encodeData } from "../format";
import { navigate, paths } from "../router";

// Schedules: the list (schedule.search, a page of 100 at a time) and a form to create one
// (schedule.create). Both go through the protocol, like any client's.

export function SchedulesPage() {
  const [cursor, setCursor] = useState<string>();
  const list = useAsync(() => protocol<{ schedules: ScheduleRecord[]; cursor?: string }>("schedule.search", { tags: {}, limit: 100, ...(cursor && { cursor }) }), [cursor]);
  return (
    <main>
      <h1>Schedules</h1>
      {list.error && <Problem error={list.error} missing="No schedules." />}
      {list.value && list.value.schedules.length === 0 && <p class="muted">No schedule yet.</p>}
      {list.value && list.value.schedules.length > 0 && (
        <div class="table-wrap">
          <table data-testid="schedules">
            <thead>
              <tr>
                <th scope="col">Id</th>
                <th scope="col">Cron (UTC)</th>
                <th scope="col">Next run</th>
                <th scope="col">Last run</th>
                <th scope="col">Target</th>
              </tr>
            </thead>
            <tbody>
              {list.value.schedules.map((s) => (
                <tr key={s.id}>
                  <td>
                    <Link to={paths.schedule(s.id)}>{s.id}</Link>
                  </td>
                  <td>
                    <code>{s.cron}</code>
                  </td>
                  <td>{dateTime(s.nextRunAt)}</td>
                  <td>{dateTime(s.lastRunAt)}</td>
                  <td>{s.promiseTags["resonate:target"] ?? "–"}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {list.value?.cursor && (
        <button type="button" onClick={() => setCursor(list.value?.cursor)}>
          Next page →
        </button>
      )}
      <CreateSchedule />
    </main>
  );
}

function CreateSchedule() {
  const [form, setForm] = useState({ id: "", cron: "*/5 * * * *", promiseId: "{{.id}}.{{.timestamp}}", timeoutSeconds: "3600", target: "poll://any@workers", func: "", args: "[]" });
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const set = (field: keyof typeof form) => (e: Event) => setForm({ ...form, [field]: (e.currentTarget as HTMLInputElement).value });

  const submit = async (e: Event) => {
    e.preventDefault();
    setError(undefined);
    let args: unknown;
    try {
      args = JSON.parse(form.args || "[]");
    } catch {
      setError("Arguments must be JSON, e.g. [1, \"two\"].");
      return;
    }
    setBusy(true);
    try {
      // The SDKs' param for a function call: {func, args, version} as JSON (spec §12.2; what `resonate invoke` sends).
      const param = form.func ? { data: encodeData(JSON.stringify({ func: form.func, args, version: 1 })) } : {};
      await protocol("schedule.create", {
        id: form.id,
        cron: form.cron,
        promiseId: form.promiseId,
        promiseTimeout: Math.round(Number(form.timeoutSeconds) * 1000),
        promiseParam: param,
        promiseTags: { "resonate:target": form.target },
      });
      navigate(paths.schedule(form.id));
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
      setBusy(false);
    }
  };

  return (
    <section aria-labelledby="create-title">
      <h2 id="create-title">Create a schedule</h2>
      <form class="grid-form" onSubmit={submit}>
        <label>
          Id
          <input name="id" required value={form.id} onInput={set("id")} autocomplete="off" />
        </label>
        <label>
          Cron (UTC)
          <input name="cron" required value={form.cron} onInput={set("cron")} />
        </label>
        <label>
          Promise id template
          <input name="promiseId" required value={form.promiseId} onInput={set("promiseId")} />
        </label>
        <label>
          Promise timeout (seconds)
          <input name="timeout" type="number" min="0" required value={form.timeoutSeconds} onInput={set("timeoutSeconds")} />
        </label>
        <label>
          Target
          <input name="target" required value={form.target} onInput={set("target")} />
        </label>
        <label>
          Function <span class="muted">(optional)</span>
          <input name="func" value={form.func} onInput={set("func")} placeholder="computeSomething" />
        </label>
        <label>
          Arguments (JSON)
          <input name="args" value={form.args} onInput={set("args")} />
        </label>
        {error && (
          <p class="notice error" role="alert">
            {error}
          </p>
        )}
        <div>
          <button type="submit" class="primary" disabled={busy}>
            Create schedule
          </button>
        </div>
      </form>
    </section>
  );
}

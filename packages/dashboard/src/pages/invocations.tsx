import { useState } from "preact/hooks";
import { admin } from "../api/client";
import { PROMISE_STATES, type PromiseRecord } from "../api/types";
import { Link } from "../components/link";
import { Problem } from "../components/problem";
import { StateBadge } from "../components/state-badge";
import { useAsync } from "../components/use-async";
import { dateTime } from "../format";
import { type Location, navigate, paths } from "../router";

// Promise search (GET /admin/promises): by id prefix, state, tags and creation time, a page at a
// time. The search lives in the URL, so a result can be shared and the back button works.

export function InvocationsPage({ location }: { location: Location }) {
  const q = location.query;
  const key = q.toString();
  const result = useAsync(
    () =>
      admin<{ promises: PromiseRecord[]; cursor?: string }>("promises", {
        prefix: q.get("prefix") ?? undefined,
        state: q.get("state") ?? undefined,
        tags: tagsQuery(q.getAll("tag")),
        from: q.get("from") ? String(new Date(q.get("from")!).getTime()) : undefined,
        to: q.get("to") ? String(new Date(q.get("to")!).getTime()) : undefined,
        cursor: q.get("cursor") ?? undefined,
        limit: "50",
      }),
    [key],
  );

  return (
    <main>
      <h1>Invocations</h1>
      <SearchForm query={q} />
      {result.error && <Problem error={result.error} missing="Nothing found." />}
      {result.loading && !result.value && <p class="muted">Searching…</p>}
      {result.value && (
        <>
          <p class="muted" role="status">
            {result.value.promises.length === 0 ? "No promise matches." : `${result.value.promises.length}${result.value.cursor ? "+" : ""} promises${q.get("cursor") ? " (a later page)" : ""}`}
          </p>
          {result.value.promises.length > 0 && (
            <div class="table-wrap">
              <table data-testid="results">
                <thead>
                  <tr>
                    <th scope="col">Id</th>
                    <th scope="col">State</th>
                    <th scope="col">Created</th>
                    <th scope="col">Settled</th>
                    <th scope="col">Target</th>
                  </tr>
                </thead>
                <tbody>
                  {result.value.promises.map((p) => (
                    <tr key={p.id}>
                      <td>
                        <Link to={paths.promise(p.id)}>{p.id}</Link>
                      </td>
                      <td>
                        <StateBadge state={p.state} />
                      </td>
                      <td>{dateTime(p.createdAt)}</td>
                      <td>{dateTime(p.settledAt)}</td>
                      <td>{p.tags["resonate:target"] ?? "–"}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
          {result.value.cursor && (
            <p>
              <Link to={paths.invocations(withCursor(q, result.value.cursor))}>Next page →</Link>
            </p>
          )}
        </>
      )}
    </main>
  );
}

/**
 * The search's tags, typed as key=value (the key may hold colons, as the SDKs' resonate:target
 * does), as the admin API's JSON `tags` parameter.
 */
function tagsQuery(pairs: string[]): string | undefined {
  const tags: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf("=");
    if (eq > 0) tags[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return Object.keys(tags).length > 0 ? JSON.stringify(tags) : undefined;
}

function withCursor(q: URLSearchParams, cursor: string): string {
  const next = new URLSearchParams(q);
  next.set("cursor", cursor);
  return next.toString();
}

function SearchForm({ query }: { query: URLSearchParams }) {
  const [values, setValues] = useState(() => ({
    prefix: query.get("prefix") ?? "",
    state: query.get("state") ?? "",
    tags: query.getAll("tag").join(" "),
    from: query.get("from") ?? "",
    to: query.get("to") ?? "",
  }));
  const [problem, setProblem] = useState<string>();
  const set = (field: keyof typeof values) => (e: Event) => setValues({ ...values, [field]: (e.currentTarget as HTMLInputElement).value });

  const submit = (e: Event) => {
    e.preventDefault();
    const bad = values.tags.split(/\s+/).filter((t) => t !== "" && t.indexOf("=") <= 0);
    if (bad.length > 0) {
      setProblem(`Tags are key=value: "${bad[0]}" is not.`);
      return;
    }
    setProblem(undefined);
    const next = new URLSearchParams();
    if (values.prefix) next.set("prefix", values.prefix);
    if (values.state) next.set("state", values.state);
    for (const tag of values.tags.split(/\s+/).filter(Boolean)) next.append("tag", tag);
    if (values.from) next.set("from", values.from);
    if (values.to) next.set("to", values.to);
    navigate(paths.invocations(next.toString()));
  };

  return (
    <form class="search" onSubmit={submit} role="search">
      <label>
        Id starts with
        <input name="prefix" value={values.prefix} onInput={set("prefix")} placeholder="order-" autocomplete="off" />
      </label>
      <label>
        State
        <select name="state" value={values.state} onChange={set("state")}>
          <option value="">any</option>
          {PROMISE_STATES.map((s) => (
            <option key={s} value={s}>
              {s.replace("_", " ")}
            </option>
          ))}
        </select>
      </label>
      <label>
        Tags <span class="muted">(key=value, space-separated)</span>
        <input name="tags" value={values.tags} onInput={set("tags")} placeholder="resonate:target=poll://any@workers" autocomplete="off" />
      </label>
      <label>
        Created from
        <input name="from" type="datetime-local" step="1" value={values.from} onInput={set("from")} />
      </label>
      <label>
        until
        <input name="to" type="datetime-local" step="1" value={values.to} onInput={set("to")} />
      </label>
      <button type="submit" class="primary">
        Search
      </button>
      {problem && (
        <p class="notice error" role="alert">
          {problem}
        </p>
      )}
    </form>
  );
}


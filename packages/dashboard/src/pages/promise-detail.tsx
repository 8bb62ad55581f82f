import { useState } from "preact/hooks";
import { admin, protocol } from "../api/client";
import type { CallTree as Tree, PromiseRecord, Value } from "../api/types";
import { CallTree } from "../components/call-tree";
import { ConfirmDialog } from "../components/confirm-dialog";
import { Link } from "../components/link";
import { Problem } from "../components/problem";
import { StateBadge } from "../components/state-badge";
import { TreeTimeline } from "../components/tree-timeline";
import { useAsync } from "../components/use-async";
import { dateTime, decodeData, duration, encodeData } from "../format";
import { paths } from "../router";

// One promise: its state, times, tags, param and value (decoded where they are JSON), the call
// tree of its invocation with a timeline, and — while it is pending — the operator's way out:
// resolve, reject or cancel it (promise.settle), each after a confirmation.

type Settle = "resolved" | "rejected" | "rejected_canceled";
const SETTLE_VERB: Record<Settle, string> = { resolved: "Resolve", rejected: "Reject", rejected_canceled: "Cancel" };

export function PromiseDetailPage({ id }: { id: string }) {
  const promise = useAsync(() => protocol<{ promise: PromiseRecord }>("promise.get", { id }).then((r) => r.promise), [id]);
  const [settling, setSettling] = useState<Settle>();

  return (
    <main>
      <p class="crumbs">
        <Link to={paths.invocations()}>Invocations</Link> /
      </p>
      <h1 class="id-title">{id}</h1>
      {promise.error && <Problem error={promise.error} missing={`No promise with the id "${id}".`} />}
      {promise.loading && !promise.value && <p class="muted">Loading…</p>}
      {promise.value && (
        <>
          <Summary p={promise.value} />
          {promise.value.state === "pending" && (
            <div class="actions" role="group" aria-label="Settle this promise">
              {(Object.keys(SETTLE_VERB) as Settle[]).map((state) => (
                <button key={state} type="button" class={state === "resolved" ? "primary" : "danger"} onClick={() => setSettling(state)}>
                  {SETTLE_VERB[state]}…
                </button>
              ))}
            </div>
          )}
          {settling && (
            <SettleDialog
              id={id}
              state={settling}
              onDone={() => promise.reload()}
              onClose={() => setSettling(undefined)}
            />
          )}
          <Payloads p={promise.value} />
          <Tags tags={promise.value.tags} />
          <TreeSection p={promise.value} key={`${id}:${promise.value.state}`} />
        </>
      )}
    </main>
  );
}

function Summary({ p }: { p: PromiseRecord }) {
  const target = p.tags["resonate:target"];
  return (
    <dl class="facts" data-testid="promise-summary">
      <div>
        <dt>State</dt>
        <dd data-testid="promise-state">
          <StateBadge state={p.state} />
        </dd>
      </div>
      <div>
        <dt>Created</dt>
        <dd>{dateTime(p.createdAt)}</dd>
      </div>
      <div>
        <dt>Settled</dt>
        <dd>{p.settledAt === undefined ? "–" : `${dateTime(p.settledAt)} (after ${duration(p.settledAt - p.createdAt)})`}</dd>
      </div>
      <div>
        <dt>Times out</dt>
        <dd>{dateTime(p.timeoutAt)}</dd>
      </div>
      {target && (
        <div>
          <dt>Runs on</dt>
          <dd>
            {target} · <Link to={paths.task(p.id)}>dispatch history</Link>
          </dd>
        </div>
      )}
    </dl>
  );
}

function Payloads({ p }: { p: PromiseRecord }) {
  return (
    <section class="payloads">
      <Payload title="Param" value={p.param} testid="param" />
      <Payload title="Value" value={p.value} testid="value" />
    </section>
  );
}

function Payload({ title, value, testid }: { title: string; value: Value; testid: string }) {
  const decoded = decodeData(value.data);
  const headers = Object.entries(value.headers ?? {});
  return (
    <div>
      <h2>
        {title} {decoded?.json && <span class="muted small">JSON</span>}
      </h2>
      {decoded ? <pre data-testid={testid}>{decoded.text}</pre> : <p class="muted">none</p>}
      {headers.length > 0 && (
        <p class="small muted">
          headers: {headers.map(([k, v]) => `${k}: ${v}`).join(", ")}
        </p>
      )}
    </div>
  );
}

function Tags({ tags }: { tags: Record<string, string> }) {
  const entries = Object.entries(tags).sort(([a], [b]) => a.localeCompare(b));
  return (
    <section>
      <h2>Tags</h2>
      {entries.length === 0 ? (
        <p class="muted">none</p>
      ) : (
        <div class="table-wrap">
          <table class="tags" data-testid="tags">
            <tbody>
              {entries.map(([k, v]) => (
                <tr key={k}>
                  <th scope="row">{k}</th>
                  <td>{v}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

/** The call tree of the invocation (from its root, resonate:origin) and its timeline. */
function TreeSection({ p }: { p: PromiseRecord }) {
  const origin = p.tags["resonate:origin"] ?? p.id;
  const tree = useAsync(() => admin<Tree>(`promises/${encodeURIComponent(origin)}/tree`), [origin]);
  return (
    <section>
      <h2>Call tree</h2>
      {origin !== p.id && (
        <p class="small">
          Part of the invocation <Link to={paths.promise(origin)}>{origin}</Link>.
        </p>
      )}
      {tree.error && <Problem error={tree.error} missing={`The root of this invocation, "${origin}", is gone.`} />}
      {tree.value && (
        <>
          <CallTree node={tree.value.root} current={p.id} />
          {tree.value.truncated && <p class="notice">Only the first {tree.value.nodes} promises are shown.</p>}
          <h2>Timeline</h2>
          <TreeTimeline root={tree.value.root} now={Date.now()} />
        </>
      )}
    </section>
  );
}

function SettleDialog({ id, state, onDone, onClose }: { id: string; state: Settle; onDone: () => void; onClose: () => void }) {
  const [text, setText] = useState("");
  const verb = SETTLE_VERB[state];
  return (
    <ConfirmDialog
      title={`${verb} ${id}?`}
      confirmLabel={verb}
      danger={state !== "resolved"}
      onClose={onClose}
      onConfirm={async () => {
        let data: string | undefined;
        if (text.trim() !== "") {
          try {
            data = encodeData(JSON.stringify(JSON.parse(text)));
          } catch {
            throw new Error("The value is not valid JSON.");
          }
        }
        await protocol("promise.settle", { id, state, value: data === undefined ? {} : { data } });
        onDone();
      }}
    >
      <p>
        The promise becomes <strong>{state.replace("_", " ")}</strong>, for good: whoever awaits it goes on with this outcome, and a worker still running it is
        stopped at its next write.
      </p>
      <label for="settle-value">Value (JSON, optional)</label>
      <textarea id="settle-value" rows={3} value={text} onInput={(e) => setText(e.currentTarget.value)} placeholder='{"reason": "settled by an operator"}' />
    </ConfirmDialog>
  );
}

import { useEffect, useState } from "preact/hooks";
import { type StreamStatus, watchOverview } from "../api/overview-stream";
import type { GroupView, Overview } from "../api/types";
import { Link } from "../components/link";
import { StateBadge } from "../components/state-badge";
import { ThroughputChart } from "../components/throughput-chart";
import { ago, dateTime, duration, shortPid } from "../format";
import { paths } from "../router";

// The overview: every group with its live workers and backlog, work per minute, recent failures,
// kept current by the server's pushes (no reload, no polling).

const STATUS_TEXT: Record<StreamStatus, string> = {
  connecting: "connecting…",
  live: "live",
  reconnecting: "connection lost, reconnecting…",
  refused: "refused",
};

export function OverviewPage() {
  const [overview, setOverview] = useState<Overview>();
  const [status, setStatus] = useState<StreamStatus>("connecting");
  useEffect(() => watchOverview(setOverview, setStatus), []);

  return (
    <main>
      <div class="page-head">
        <h1>Overview</h1>
        <p class={`live stream-${status}`}>
          {/* Only the connection's state is announced; the time of each push would be every 2 s. */}
          <span role="status" data-testid="stream-status">
            {STATUS_TEXT[status]}
          </span>
          {overview && status === "live" && <span class="muted"> · updated {dateTime(overview.at)}</span>}
        </p>
      </div>
      {!overview ? (
        <p class="muted">Waiting for the server…</p>
      ) : (
        <>
          <section aria-labelledby="groups-title">
            <h2 id="groups-title">Groups</h2>
            {overview.groups.length === 0 && <p class="muted">No group has a connected worker or a live task.</p>}
            <div class="cards">
              {overview.groups.map((g) => (
                <GroupCard key={g.group} group={g} now={overview.at} />
              ))}
            </div>
          </section>
          <section aria-labelledby="throughput-title">
            <h2 id="throughput-title">Work per minute</h2>
            <ThroughputChart minutes={overview.throughput.minutes} />
            <p class="hint">Counted by the replica this page talks to; with several replicas each counts what it served.</p>
          </section>
          <section aria-labelledby="failures-title">
            <h2 id="failures-title">Recent failures</h2>
            {overview.failures.length === 0 ? (
              <p class="muted">No promise rejected or timed out in the last hour.</p>
            ) : (
              <div class="table-wrap">
                <table data-testid="failures">
                  <thead>
                    <tr>
                      <th scope="col">Promise</th>
                      <th scope="col">State</th>
                      <th scope="col">Settled</th>
                      <th scope="col">Target</th>
                    </tr>
                  </thead>
                  <tbody>
                    {overview.failures.map((f) => (
                      <tr key={f.id}>
                        <td>
                          <Link to={paths.promise(f.id)}>{f.id}</Link>
                        </td>
                        <td>
                          <StateBadge state={f.state} />
                        </td>
                        <td>{f.settledAt === undefined ? "–" : ago(f.settledAt, overview.at)}</td>
                        <td>{f.target ?? "–"}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}
          </section>
        </>
      )}
    </main>
  );
}

function GroupCard({ group: g, now }: { group: GroupView; now: number }) {
  return (
    <article class="card" data-testid={`group-${g.group}`} aria-labelledby={`group-${g.group}-title`}>
      <h3 id={`group-${g.group}-title`}>{g.group}</h3>
      <dl class="figures">
        <div>
          <dt>workers</dt>
          <dd data-testid="worker-count">{g.workers.length}</dd>
        </div>
        <div>
          <dt>pending</dt>
          <dd data-testid="pending">{g.pending}</dd>
        </div>
        <div>
          <dt>in flight</dt>
          <dd data-testid="acquired">{g.acquired}</dd>
        </div>
        <div>
          <dt>oldest pending</dt>
          <dd>{g.oldestPendingAgeMs === undefined ? "–" : duration(g.oldestPendingAgeMs)}</dd>
        </div>
      </dl>
      {g.workers.length > 0 && (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Worker</th>
                <th scope="col">Replica</th>
                <th scope="col">Tasks held</th>
                <th scope="col">Connected</th>
              </tr>
            </thead>
            <tbody>
              {g.workers.map((w) => (
                <tr key={w.pid} data-testid="worker" data-pid={w.pid}>
                  <td title={w.pid}>
                    <code>{shortPid(w.pid)}</code>
                  </td>
                  <td>{w.replica}</td>
                  <td data-testid="tasks">{w.tasks}</td>
                  <td title={dateTime(w.connectedSince)}>{ago(w.connectedSince, now)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </article>
  );
}

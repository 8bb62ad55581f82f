import type { TaskEvent } from "../api/types";
import { clockTime, duration, shortPid } from "../format";
import { TROUBLE, describeEvent } from "../history-words";
import { TimeAxis, scale } from "./time-axis";

// A task's dispatch history on a time axis: a row per worker process it met, with the spans it held
// the lease (acquired → lapsed, taken back, released, suspended or fulfilled) and its events as
// marks; a first row for the task's own events (created, retried…).

/** Events that end a holder's lease. */
const LEASE_ENDS = new Set(["lapsed", "recovered", "released", "suspended", "fulfilled", "halted"]);

interface Span {
  pid: string;
  from: number;
  to: number;
  /** How the lease ended; undefined while it is held. */
  end?: string;
}

function leaseSpans(events: TaskEvent[], now: number): Span[] {
  const spans: Span[] = [];
  let open: Span | undefined;
  for (const e of events) {
    if (e.event === "acquired" && e.pid !== undefined) {
      if (open) spans.push(open);
      open = { pid: e.pid, from: e.at, to: now };
    } else if (open && LEASE_ENDS.has(e.event)) {
      spans.push({ ...open, to: e.at, end: e.event });
      open = undefined;
    }
  }
  if (open) spans.push(open);
  return spans;
}

export function TaskTimeline({ events, now }: { events: TaskEvent[]; now: number }) {
  if (events.length === 0) return null;
  const spans = leaseSpans(events, now);
  const last = Math.max(...events.map((e) => e.lastAt ?? e.at), ...spans.map((s) => s.to));
  const s = scale(events[0]!.at, Math.max(events[0]!.at + 1, last));
  const pids = [...new Set(events.flatMap((e) => (e.pid === undefined ? [] : [e.pid])))];
  const rows: { key: string; label: string; events: TaskEvent[]; spans: Span[] }[] = [
    { key: "task", label: "task", events: events.filter((e) => e.pid === undefined), spans: [] },
    ...pids.map((pid) => ({ key: pid, label: shortPid(pid), events: events.filter((e) => e.pid === pid), spans: spans.filter((sp) => sp.pid === pid) })),
  ];
  return (
    <div class="timeline" data-testid="task-timeline">
      <TimeAxis s={s} />
      {rows.map((row) => (
        <div class="timeline-row" key={row.key}>
          <div class="timeline-label" title={row.key}>
            {row.label}
          </div>
          <div class="timeline-track">
            {row.spans.map((sp, i) => (
              <div
                key={i}
                class={`timeline-bar lease ${sp.end && TROUBLE.has(sp.end) ? "lost" : ""}`}
                style={{ left: `${s.x(sp.from)}%`, width: `max(2px, ${s.x(sp.to) - s.x(sp.from)}%)` }}
                title={`lease held by ${shortPid(sp.pid)} for ${duration(sp.to - sp.from)}${sp.end ? `, then ${sp.end}` : ", still held"}`}
              />
            ))}
            {row.events.map((e) => (
              <span
                key={e.seq}
                class={`timeline-mark event-${e.event} ${TROUBLE.has(e.event) ? "trouble" : ""}`}
                style={{ left: `${s.x(e.at)}%` }}
                title={`${clockTime(e.at)} ${describeEvent(e)}`}
              />
            ))}
          </div>
        </div>
      ))}
    </div>
  );
}

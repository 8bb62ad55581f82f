// The dispatch history as the admin API serves it (GET /admin/tasks/<id>/history; this server's
// own API, not the Resonate protocol), and the story it tells in plain words. One wording for
// every reader: the CLI's `resonate history` and the dashboard's task page both print it.

export interface TaskHistoryEvent {
  seq: number;
  at: number;
  event: string;
  version?: number;
  pid?: string;
  replica?: string;
  /** How many events the row stands for (a lease's extensions are counted on one row). */
  count: number;
  lastAt?: number;
  detail?: Record<string, unknown>;
}

export interface TaskHistory {
  id: string;
  task: { state: string; version: number; pid?: string } | null;
  events: TaskHistoryEvent[];
}

/** How a reader shows times, durations and process ids (a terminal in UTC, a browser in local time). */
export interface HistoryFormat {
  time(ms: number): string;
  duration(ms: number): string;
  pid(pid: string): string;
}

/** Events that mean work was taken from a worker or went nowhere: readers mark them. */
export const TROUBLE_EVENTS: ReadonlySet<string> = new Set(["lapsed", "recovered", "refused", "unrouted", "reoffered"]);

/** One event in words: "offered to 9c1e… on r1 (it held 2 tasks, the least loaded of 3)". */
export function describeTaskEvent(e: TaskHistoryEvent, format: HistoryFormat): string {
  const d = e.detail ?? {};
  const pid = e.pid === undefined ? "?" : format.pid(e.pid);
  const on = e.replica === undefined ? "" : ` on ${e.replica}`;
  switch (e.event) {
    case "created":
      if (d["by"] === "task.create") return "created and taken at once by its caller (task.create)";
      if (typeof d["delayedUntil"] === "number") return `created, delayed until ${format.time(d["delayedUntil"])}`;
      return `created${typeof d["target"] === "string" ? ` for ${d["target"]}` : ""}`;
    case "offered":
    case "reoffered": {
      if (typeof d["url"] === "string") return `sent to ${d["url"]}`;
      const verb = e.event === "offered" ? "offered to" : "nobody took it in time: re-offered to";
      return `${verb} ${pid}${on} ${whyChosen(d, e.event === "reoffered")}`;
    }
    case "unrouted":
      return `not offered: ${typeof d["why"] === "string" ? d["why"].replace(/^(message|re-offer) dropped: /, "") : "no stream"}`;
    case "retried":
      return `still pending after the retry timeout: sent again (version ${e.version})`;
    case "acquired":
      return `acquired by ${pid}${on} (version ${e.version}${typeof d["ttl"] === "number" ? `, lease ${format.duration(d["ttl"])}` : ""})`;
    case "extended":
      return e.count > 1 && e.lastAt !== undefined
        ? `lease extended by ${pid}, ${e.count} times until ${format.time(e.lastAt)}`
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

/** Why a worker was chosen: "(it held 2 tasks, the least loaded of 3)". */
function whyChosen(d: Record<string, unknown>, reoffer: boolean): string {
  if (d["how"] === "addressed") return "(the process its address named)";
  const held = Number(d["held"] ?? 0);
  const offered = Number(d["offered"] ?? 0);
  const candidates = Number(d["candidates"] ?? 1);
  const load = `it held ${held} task${held === 1 ? "" : "s"}${offered > 0 ? ` and had ${offered} offered` : ""}`;
  if (candidates <= 1) return `(${load}; the only ${reoffer ? "other " : ""}worker of the group)`;
  return `(${load}, the least loaded of ${candidates})`;
}

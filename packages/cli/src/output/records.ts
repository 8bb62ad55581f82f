import type { PromiseRecord, ScheduleRecord, TaskRecord, Tags, Value } from "@resonate-compat/protocol";
import { formatDuration } from "../duration";
import { describeValue } from "../values";
import { record, table } from "./table";
import { formatTime, formatTimeFromNow } from "./time";

// How each protocol record reads in a terminal: one record as fields, many as a table.

const CELL_MAX = 48;

function short(text: string, max = CELL_MAX): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

export function formatTags(tags: Tags | undefined): string {
  return Object.entries(tags ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(" ");
}

function valueField(value: Value | undefined): string {
  const text = describeValue(value);
  const headers = formatTags(value?.headers);
  return headers ? `${text} (headers: ${headers})` : text;
}

export function promiseRecord(p: PromiseRecord): string {
  return record([
    ["id", p.id],
    ["state", p.state],
    ["param", valueField(p.param)],
    ["value", valueField(p.value)],
    ["tags", formatTags(p.tags)],
    ["timeout", p.state === "pending" ? formatTimeFromNow(p.timeoutAt) : formatTime(p.timeoutAt)],
    ["created", formatTime(p.createdAt)],
    ["settled", formatTime(p.settledAt)],
  ]);
}

export function promiseTable(promises: PromiseRecord[]): string {
  return table(
    ["ID", "STATE", "CREATED", "TIMEOUT", "TARGET", "VALUE"],
    promises.map((p) => [
      p.id,
      p.state,
      formatTime(p.createdAt),
      formatTime(p.timeoutAt),
      p.tags["resonate:target"] ?? "",
      short(describeValue(p.value)),
    ]),
  );
}

export function taskRecord(t: TaskRecord): string {
  return record([
    ["id", t.id],
    ["state", t.state],
    ["version", t.version],
    ["resumes", t.resumes],
    ["pid", t.pid],
    ["ttl", t.ttl === undefined ? undefined : formatDuration(t.ttl)],
  ]);
}

export function taskTable(tasks: TaskRecord[]): string {
  return table(
    ["ID", "STATE", "VERSION", "RESUMES", "PID", "TTL"],
    tasks.map((t) => [t.id, t.state, String(t.version), String(t.resumes), t.pid ?? "", t.ttl === undefined ? "" : formatDuration(t.ttl)]),
  );
}

export function scheduleRecord(s: ScheduleRecord): string {
  return record([
    ["id", s.id],
    ["cron", s.cron],
    ["promise id", s.promiseId],
    ["promise timeout", formatDuration(s.promiseTimeout)],
    ["promise param", valueField(s.promiseParam)],
    ["promise tags", formatTags(s.promiseTags)],
    ["created", formatTime(s.createdAt)],
    ["next run", formatTimeFromNow(s.nextRunAt)],
    ["last run", formatTime(s.lastRunAt)],
  ]);
}

export function scheduleTable(schedules: ScheduleRecord[]): string {
  return table(
    ["ID", "CRON", "PROMISE ID", "PROMISE TIMEOUT", "NEXT RUN", "LAST RUN"],
    schedules.map((s) => [s.id, s.cron, s.promiseId, formatDuration(s.promiseTimeout), formatTime(s.nextRunAt), formatTime(s.lastRunAt)]),
  );
}

/** A page of search results: the table, or a line saying there is nothing, and how to go on. */
export function page(rows: string, count: number, noun: string, cursor: string | undefined): string {
  const lines = [count === 0 ? `no ${noun}` : rows];
  if (cursor !== undefined) lines.push(`more: --cursor ${cursor}`);
  return lines.join("\n");
}

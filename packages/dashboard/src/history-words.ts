import { type TaskHistoryEvent, TROUBLE_EVENTS, describeTaskEvent } from "@resonate-compat/protocol/admin-history";
import { clockTime, duration, shortPid } from "./format";

// A task's dispatch events in plain words, in the browser's local time: the same story (one
// wording, in the protocol package) that `resonate history` prints.

export function describeEvent(e: TaskHistoryEvent): string {
  return describeTaskEvent(e, { time: clockTime, duration, pid: shortPid });
}

/** Events that mean work was lost from a worker: drawn in the warning colour. */
export const TROUBLE = TROUBLE_EVENTS;

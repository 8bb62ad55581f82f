import type { PromiseRecord, ScheduleRecord, TaskRecord } from "./records";
import type { Kind } from "./schemas";

// The request/response envelope of POST / (spec §2.2, §2.3).

export interface RequestHead {
  corrId: string;
  version: string;
  auth?: string | null;
  "resonate:debug_time"?: number | null;
  [field: string]: unknown;
}

export interface RequestEnvelope<D = unknown> {
  kind: string;
  head: RequestHead;
  data: D;
}

/** Statuses the server answers with (spec §2.3). */
export type Status = 200 | 300 | 400 | 401 | 403 | 404 | 409 | 410 | 413 | 422 | 500 | 503;

export interface ResponseHead {
  corrId: string;
  status: number;
  version: string;
}

export interface ResponseEnvelope<D = unknown> {
  kind: string;
  head: ResponseHead;
  /** An object (an array for debug.tick) on success; a message string on every error. */
  data: D;
}

/** Statuses the official SDK reads as protocol answers; anything else is a "platform failure" (spec §2.4). */
export const PROTOCOL_STATUSES: ReadonlySet<number> = new Set([200, 300, 404, 409, 422, 501]);

// Success payloads, per kind.
export interface PromiseResult { promise: PromiseRecord }
export interface TaskResult { task: TaskRecord }
export interface AcquiredTaskResult { task: TaskRecord; promise: PromiseRecord; preload: PromiseRecord[] }
export interface SuspendResult { preload?: PromiseRecord[] }
export interface FenceResult { action: ResponseEnvelope; preload: PromiseRecord[] }
export interface ScheduleResult { schedule: ScheduleRecord }
export interface PromiseSearchResult { promises: PromiseRecord[]; cursor?: string }
export interface TaskSearchResult { tasks: TaskRecord[]; cursor?: string }
export interface ScheduleSearchResult { schedules: ScheduleRecord[]; cursor?: string }
export type Empty = Record<string, never>;

export interface ResponseData {
  "promise.get": PromiseResult;
  "promise.create": PromiseResult;
  "promise.settle": PromiseResult;
  "promise.register_callback": PromiseResult;
  "promise.register_listener": PromiseResult;
  "promise.search": PromiseSearchResult;
  "task.get": TaskResult;
  "task.create": AcquiredTaskResult;
  "task.acquire": AcquiredTaskResult;
  "task.release": Empty;
  "task.suspend": SuspendResult;
  "task.fulfill": PromiseResult;
  "task.fence": FenceResult;
  "task.heartbeat": Empty;
  "task.halt": Empty;
  "task.continue": Empty;
  "task.search": TaskSearchResult;
  "schedule.get": ScheduleResult;
  "schedule.create": ScheduleResult;
  "schedule.delete": Empty;
  "schedule.search": ScheduleSearchResult;
  "debug.start": Empty;
  "debug.stop": Empty;
  "debug.reset": Empty;
  "debug.snap": unknown;
  "debug.tick": unknown[];
}

export type KindResponse<K extends Kind> = ResponseData[K];

// Records exchanged on the wire (spec §3). Optional fields are omitted, never null (spec §2.4).

/** An opaque payload. Presence of each field is preserved exactly as sent (spec §3.1). */
export interface Value {
  headers?: Record<string, string>;
  data?: string;
}

export type Tags = Record<string, string>;

export const PROMISE_STATES = ["pending", "resolved", "rejected", "rejected_canceled", "rejected_timedout"] as const;
export type PromiseState = (typeof PROMISE_STATES)[number];

/** States a request may settle a promise to (`rejected_timedout` is reserved for the server). */
export const SETTLE_STATES = ["resolved", "rejected", "rejected_canceled"] as const;
export type SettleState = (typeof SETTLE_STATES)[number];

export interface PromiseRecord {
  id: string;
  state: PromiseState;
  param: Value;
  value: Value;
  tags: Tags;
  timeoutAt: number;
  createdAt: number;
  settledAt?: number;
}

export const TASK_STATES = ["pending", "acquired", "suspended", "halted", "fulfilled"] as const;
export type TaskState = (typeof TASK_STATES)[number];

export interface TaskRecord {
  id: string;
  state: TaskState;
  version: number;
  resumes: number;
  /** Present only while acquired. */
  ttl?: number;
  /** Present only while acquired. */
  pid?: string;
}

export interface ScheduleRecord {
  id: string;
  cron: string;
  promiseId: string;
  promiseTimeout: number;
  promiseParam: Value;
  promiseTags: Tags;
  createdAt: number;
  nextRunAt: number;
  lastRunAt?: number;
}

/** Reserved tags the server interprets (spec §4.3). */
export const TAG = {
  target: "resonate:target",
  timer: "resonate:timer",
  delay: "resonate:delay",
  origin: "resonate:origin",
  branch: "resonate:branch",
  parent: "resonate:parent",
  prefix: "resonate:prefix",
  scope: "resonate:scope",
  schedule: "resonate:schedule",
} as const;

import { z } from "zod";
import { SETTLE_STATES, PROMISE_STATES, TASK_STATES } from "./records";

// Zod schemas of every request's `data` (spec §6). Unknown fields are stripped, never an error
// (spec §2.2). Type errors become "Invalid request: <path>: <detail>"; the rule messages of the spec
// are attached to the checks that produce them, so the server answers with the spec's texts.

/** The spec's rule messages: reported as they are, while other issues get the type-error prefix. */
const RULES = new Set<string>();
function rule(message: string): string {
  RULES.add(message);
  return message;
}

const nonEmpty = (message: string) => {
  rule(message);
  return z.string({ error: (i) => (i.input === undefined ? message : undefined) }).min(1, { error: message });
};

/** An integer ≥ 0 (a float or a string is a type error; a negative number gets the rule message). */
const nonNegativeInt = (message: string) => z.number().int().min(0, { error: rule(message) });

/**
 * A string → string map. Checked entry by entry rather than with z.record, which skips the key
 * "__proto__": every key a client sends is validated and kept.
 */
const stringMap = z.unknown().transform((value, ctx): Record<string, string> => {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    ctx.addIssue({ code: "custom", message: "Invalid input: expected an object of strings" });
    return z.NEVER;
  }
  const entries = Object.entries(value);
  for (const [key, item] of entries) {
    if (typeof item !== "string") ctx.addIssue({ code: "custom", path: [key], message: `Invalid input: expected string, received ${typeof item}` });
  }
  return Object.fromEntries(entries) as Record<string, string>;
});

/** A Value: both fields optional; `null` reads as absent so that nothing is ever stored as null. */
export const valueSchema = z
  .object({
    headers: stringMap.nullish(),
    data: z.string().nullish(),
  })
  .transform((v) => {
    const out: { headers?: Record<string, string>; data?: string } = {};
    if (v.headers != null) out.headers = v.headers;
    if (v.data != null) out.data = v.data;
    return out;
  });

const optionalValue = valueSchema.nullish().transform((v) => v ?? {});
const optionalTags = stringMap.nullish().transform((t) => t ?? {});

const promiseId = nonEmpty("Promise ID is required").refine((id) => !id.includes("\u0000"), {
  error: rule("Promise ID must not contain null bytes"),
});

export const promiseGetSchema = z.object({ id: nonEmpty("Promise ID is required") });

export const promiseCreateSchema = z.object({
  id: promiseId,
  timeoutAt: nonNegativeInt("TimeoutAt must be a non-negative integer"),
  param: optionalValue,
  tags: optionalTags,
});

export const promiseSettleSchema = z.object({
  id: nonEmpty("Promise ID is required"),
  state: z.enum(SETTLE_STATES),
  value: optionalValue,
});

export const promiseRegisterCallbackSchema = z
  .object({
    awaited: nonEmpty("Awaited promise ID is required"),
    awaiter: nonEmpty("Awaiter promise ID is required"),
  })
  .refine((d) => d.awaited !== d.awaiter, { error: rule("Awaited and awaiter must be different promises") });

export const promiseRegisterListenerSchema = z.object({
  awaited: nonEmpty("Awaited promise ID is required"),
  address: nonEmpty("Address is required"),
});

const limit = z
  .number()
  .int()
  .min(1, { error: rule("Limit must be a positive integer") })
  .max(1000, { error: rule("Invalid 'limit' — must be between 1 and 1000") })
  .nullish();
const cursor = z.string().nullish();

export const promiseSearchSchema = z.object({
  state: z.enum(PROMISE_STATES).nullish(),
  tags: stringMap.nullish(),
  limit,
  cursor,
});

const taskId = nonEmpty("Task ID is required");
const version = nonNegativeInt("Version must be a non-negative integer");
const pid = nonEmpty("Process ID is required");
const ttl = z.number().int().min(1, { error: rule("TTL must be a positive integer") });

/** An inner action: `kind` must be a string; `head` is carried but not interpreted. */
const actionOf = <D extends z.ZodType>(data: D) =>
  z.object({ kind: z.string(), head: z.unknown().optional(), data });

export const taskGetSchema = z.object({ id: taskId });

export const taskCreateSchema = z.object({
  pid,
  ttl,
  action: actionOf(promiseCreateSchema),
});

export const taskAcquireSchema = z.object({ id: taskId, version, pid, ttl });

export const taskReleaseSchema = z.object({ id: taskId, version });

const callbackData = z.object({
  awaited: nonEmpty("Awaited promise ID is required"),
  awaiter: nonEmpty("Awaiter promise ID is required"),
});

export const taskSuspendSchema = z
  .object({
    id: taskId,
    version,
    actions: z.array(actionOf(callbackData)).min(1, { error: rule("Actions array cannot be empty") }),
  })
  .superRefine((d, ctx) => {
    for (const a of d.actions) {
      if (a.data.awaited === a.data.awaiter) ctx.addIssue({ code: "custom", message: rule("Awaited and awaiter must be different promises") });
    }
    if (d.actions.some((a) => a.data.awaiter !== d.id)) ctx.addIssue({ code: "custom", message: rule("All action awaiter IDs must match the task ID") });
    if (d.actions.some((a) => a.data.awaited === d.id)) ctx.addIssue({ code: "custom", message: rule("Action awaited promise must not equal the task ID") });
  });

export const taskFulfillSchema = z
  .object({ id: taskId, version, action: actionOf(promiseSettleSchema) })
  .refine((d) => d.action.data.id === d.id, { error: rule("Action ID must match the task ID") });

/** The inner action of a fence is decoded by its kind later; here only its outline is checked. */
export const taskFenceSchema = z
  .object({ id: taskId, version, action: z.object({ kind: z.string(), head: z.unknown().optional(), data: z.unknown() }) })
  .refine((d) => !(isRecord(d.action.data) && d.action.data["id"] === d.id), { error: rule("Action ID must not equal the task ID") });

export const taskHeartbeatSchema = z.object({
  pid,
  tasks: z.array(z.object({ id: z.string(), version: z.number().int() })),
});

export const taskHaltSchema = z.object({ id: taskId });
export const taskContinueSchema = z.object({ id: taskId });

export const taskSearchSchema = z.object({ state: z.enum(TASK_STATES).nullish(), limit, cursor });

const scheduleId = nonEmpty("Schedule ID is required");

export const scheduleGetSchema = z.object({ id: scheduleId });
export const scheduleDeleteSchema = z.object({ id: scheduleId });

export const scheduleCreateSchema = z.object({
  id: scheduleId,
  cron: nonEmpty("Cron expression is required"),
  promiseId: nonEmpty("Promise ID template is required"),
  promiseTimeout: nonNegativeInt("Promise timeout must be a non-negative integer"),
  promiseParam: optionalValue,
  promiseTags: optionalTags,
});

export const scheduleSearchSchema = z.object({ tags: stringMap.nullish(), limit, cursor });

export const debugTickSchema = z.object({
  time: z.number({ error: rule("Missing or invalid 'time' field") }).int({ error: rule("Missing or invalid 'time' field") }),
});
export const emptySchema = z.object({});

export function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Maps each kind to the schema of its `data`. Unknown kinds are not in this table. */
export const requestSchemas = {
  "promise.get": promiseGetSchema,
  "promise.create": promiseCreateSchema,
  "promise.settle": promiseSettleSchema,
  "promise.register_callback": promiseRegisterCallbackSchema,
  "promise.register_listener": promiseRegisterListenerSchema,
  "promise.search": promiseSearchSchema,
  "task.get": taskGetSchema,
  "task.create": taskCreateSchema,
  "task.acquire": taskAcquireSchema,
  "task.release": taskReleaseSchema,
  "task.suspend": taskSuspendSchema,
  "task.fulfill": taskFulfillSchema,
  "task.fence": taskFenceSchema,
  "task.heartbeat": taskHeartbeatSchema,
  "task.halt": taskHaltSchema,
  "task.continue": taskContinueSchema,
  "task.search": taskSearchSchema,
  "schedule.get": scheduleGetSchema,
  "schedule.create": scheduleCreateSchema,
  "schedule.delete": scheduleDeleteSchema,
  "schedule.search": scheduleSearchSchema,
  "debug.start": emptySchema,
  "debug.stop": emptySchema,
  "debug.reset": emptySchema,
  "debug.snap": emptySchema,
  "debug.tick": debugTickSchema,
} as const;

export type Kind = keyof typeof requestSchemas;
export type RequestData<K extends Kind> = z.output<(typeof requestSchemas)[K]>;
export const KINDS = Object.keys(requestSchemas) as Kind[];

export function isKind(kind: string): kind is Kind {
  return Object.hasOwn(requestSchemas, kind);
}

/**
 * One line naming every problem: the spec's rule messages as they are, type errors as
 * "Invalid request: <path>: <detail>".
 */
export function describeIssues(error: z.ZodError, typePrefix = "Invalid request"): string {
  return error.issues
    .map((issue) => {
      if (RULES.has(issue.message)) return issue.message;
      const path = issue.path.length > 0 ? issue.path.join(".") : "data";
      return `${typePrefix}: ${path}: ${issue.message}`;
    })
    .join("; ");
}

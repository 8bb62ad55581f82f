// Small helpers shared by the protocol checks: ids, targets nobody listens to, wall-clock deadlines.
import type { Api } from "../api.js";
import type { CheckContext } from "../check.js";
import { fail, show, status } from "../expect.js";

/** A worker group of this run that no process ever joins: executes sent there are simply dropped. */
export function nobody(ctx: CheckContext): string {
  return `poll://any@conf-${ctx.runId}-nobody`;
}

/**
 * A deadline a few minutes ahead (wall clock): long enough for any check, short enough that what a
 * check leaves behind times out soon after the run.
 */
export function soon(minutes = 5): number {
  return Date.now() + minutes * 60_000;
}

type Caller = Pick<Api, "call">;

/** `data[key]` of a 200 answer, which must be an object (a record). */
export function record(data: any, key: string, what: string): any {
  const v = data?.[key];
  if (v === null || typeof v !== "object") fail(`${what}: the answer has no '${key}' record: ${show(data)}`);
  return v;
}

/** promise.create that must answer 200; returns the record. */
export async function create(api: Caller, data: Record<string, unknown>): Promise<any> {
  const what = `promise.create ${String(data.id)}`;
  return record(status(await api.call("promise.create", data), 200, what), "promise", what);
}

/** A promise with a target (hence a pending task at version 0) that nobody will execute. */
export async function createTask(ctx: CheckContext, api: Caller, name: string, extra: Record<string, unknown> = {}, timeoutAt = soon()): Promise<string> {
  const id = ctx.id(name);
  await create(api, { id, timeoutAt, ...extra, tags: { "resonate:target": nobody(ctx), ...((extra.tags as object) ?? {}) } });
  return id;
}

/** task.acquire that must answer 200; returns {task, promise, preload}. */
export async function acquire(api: Caller, id: string, version: number, pid = "conf-w1", ttl = 60_000): Promise<any> {
  const what = `task.acquire ${id} v${version}`;
  const data = status(await api.call("task.acquire", { id, version, pid, ttl }), 200, what);
  record(data, "task", what);
  return data;
}

export async function getTask(api: Caller, id: string): Promise<any> {
  return record(status(await api.call("task.get", { id }), 200, `task.get ${id}`), "task", `task.get ${id}`);
}

export async function getPromise(api: Caller, id: string): Promise<any> {
  return record(status(await api.call("promise.get", { id }), 200, `promise.get ${id}`), "promise", `promise.get ${id}`);
}

/** The inner envelope of task.suspend / task.create / task.fulfill / task.fence actions. */
export function action(kind: string, data: Record<string, unknown>): Record<string, unknown> {
  return { kind, head: { corrId: `inner-${Math.random().toString(36).slice(2, 8)}`, version: "2026-04-01" }, data };
}

export function callbacks(awaiter: string, awaited: string[]): Record<string, unknown>[] {
  return awaited.map((a) => action("promise.register_callback", { awaited: a, awaiter }));
}

/** base64 of a JSON value, as the SDK stores values. */
export function encode(v: unknown): string {
  return Buffer.from(JSON.stringify(v)).toString("base64");
}

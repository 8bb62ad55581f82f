import { TAG } from "@resonate-compat/protocol";

// The reference's lineage and same-origin rules (spec §13 C3, "strict-mode rule definitions").
// Only strict mode enforces them: every SDK version breaks them in ordinary use (child ids such as
// `root:1`, explicit ids, detached calls, schedule-fired roots, ids containing dots), and a 400
// there turns into a release-and-retry loop in the SDK (spec §12.7). Each function returns the
// reference's message for the first broken rule, or undefined.

/** The text before the first "." of an id, or the whole id. */
export function originOf(id: string): string {
  const dot = id.indexOf(".");
  return dot === -1 ? id : id.slice(0, dot);
}

/** True when `id` is `ancestor` itself or one of its dotted descendants (`ancestor.…`). */
export function extendsId(id: string, ancestor: string): boolean {
  return id === ancestor || id.startsWith(`${ancestor}.`);
}

/** promise.create (also inside task.create and fenced creates): the lineage tags must fit the id. */
export function createLineageViolation(id: string, tags: Readonly<Record<string, string>>): string | undefined {
  const origin = tags[TAG.origin];
  if (origin !== undefined) {
    if (origin.includes(".")) return "resonate:origin must not contain '.'";
    if (!extendsId(id, origin)) return "Promise ID must be prefixed by resonate:origin";
  }
  const branch = tags[TAG.branch];
  if (branch !== undefined && !extendsId(id, branch)) return "Promise ID must be prefixed by resonate:branch";
  const parent = tags[TAG.parent];
  if (parent !== undefined && !extendsId(id, parent)) return "Promise ID must be prefixed by resonate:parent";
  const prefix = tags[TAG.prefix];
  if (prefix !== undefined && prefix.includes(".")) return "resonate:prefix must not contain '.'";
  return undefined;
}

/** promise.register_callback: a promise may only wait for one of its own origin. */
export function callbackOriginViolation(awaited: string, awaiter: string): string | undefined {
  return originOf(awaited) === originOf(awaiter) ? undefined : "Awaiter and awaited must belong to the same origin";
}

/**
 * task.suspend: every awaited promise must share the task's origin. (The reference also reports
 * the callback rule for the same action, joined in an order that varies from run to run; the
 * task-level message alone is given here.)
 */
export function suspendOriginViolation(taskId: string, awaited: readonly string[]): string | undefined {
  const origin = originOf(taskId);
  return awaited.every((id) => originOf(id) === origin) ? undefined : "Awaited promise must belong to the same origin as the task";
}

/** task.heartbeat: one call renews the tasks of one origin only. */
export function heartbeatOriginViolation(taskIds: readonly string[]): string | undefined {
  if (taskIds.length < 2) return undefined;
  const origin = originOf(taskIds[0]!);
  return taskIds.every((id) => originOf(id) === origin) ? undefined : "All tasks must belong to the same origin";
}

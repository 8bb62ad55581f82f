import type { TaskRecord } from "@resonate-compat/protocol";

// Errors the SDK throws. Two failures look alike from a distance and need different reactions:
//   - ResonateError: the server answered with a protocol status that means "no" (404, 409, 422, ...).
//     Retrying the same request cannot help; the caller has to change something.
//   - ResonateUnreachableError: there was no protocol answer at all (network error, timeout,
//     5xx, a non-Resonate endpoint). The HTTP client already retried with back-off before this.

/** The server answered, and the answer is a protocol status other than the one the call needs. */
export class ResonateError extends Error {
  override name = "ResonateError";
  constructor(
    /** The request kind, e.g. "promise.get". */
    readonly kind: string,
    /** The protocol status from the response head (equal to the HTTP status). */
    readonly status: number,
    /** The server's own message (error responses carry a string in `data`). */
    readonly serverMessage: string,
    message = `${kind} answered ${status}: ${serverMessage}`,
  ) {
    super(message);
  }
}

/** `get(id)` on an id the server does not know. */
export class PromiseNotFoundError extends ResonateError {
  override name = "PromiseNotFoundError";
  constructor(readonly id: string, serverMessage: string) {
    super("promise.get", 404, serverMessage, `No promise with id "${id}" on the server (404 ${serverMessage})`);
  }
}

/** No protocol answer: the server could not be reached, timed out, or answered with a non-protocol status. */
export class ResonateUnreachableError extends Error {
  override name = "ResonateUnreachableError";
  constructor(
    readonly url: string,
    readonly kind: string,
    readonly attempts: number,
    /** Why the last attempt failed, in words ("connect ECONNREFUSED", "HTTP 503", ...). */
    readonly reason: string,
    /** The HTTP status of the last attempt, when there was a response at all. */
    readonly httpStatus?: number,
    options?: { cause?: unknown },
  ) {
    const tries = `${kind}, ${attempts} attempt${attempts === 1 ? "" : "s"}`;
    super(
      httpStatus === undefined
        ? `Could not reach the Resonate server at ${url} (${tries}): ${reason}`
        : `The Resonate server at ${url} gave no protocol answer (${tries}): ${reason}`,
      options,
    );
  }
}

/** Rejection sent to the caller when the worker that got the task has no function of that name/version. */
export class FunctionNotRegisteredError extends Error {
  override name = "FunctionNotRegisteredError";
}

/**
 * Why a running function's lease is gone (see LeaseLostError):
 *   - "expired": the process was frozen (SIGSTOP, a debugger, a long synchronous stretch) and sent no
 *     heartbeat for longer than its lease could last: found on its own clock, at once on resume,
 *     before the server is asked;
 *   - "released": the server took the task back (its lease lapsed, the process's poll stream had
 *     closed, or it was released) and it is pending again;
 *   - "reacquired": another process (or this one, later) acquired the task: it now has a higher version;
 *   - "fulfilled": the task is done: its promise was settled (by another holder, by its deadline, or
 *     from outside);
 *   - "suspended", "halted": the task is in that state;
 *   - "gone": the server has no such task any more;
 *   - "redispatched": the server sent an execute for this task at the version held here, which it
 *     does only for a task that is pending again;
 *   - "refused": the server refused a write of this holder (task.fulfill answered 409).
 */
export type LeaseLossReason = "expired" | "released" | "reacquired" | "fulfilled" | "suspended" | "halted" | "gone" | "redispatched" | "refused";

/**
 * The reason of a running function's `ctx.signal` when the task it runs is no longer held by this
 * process at this version. From then on the SDK no longer heartbeats the task and its result is not
 * taken ("expired", an inference from this process's own clock, is checked with the server first: a
 * task the server still holds for us is released); another worker runs (or ran) it again. An
 * external write the function still makes must carry `ctx.fencingToken`, so that the store can
 * refuse it (see the SDK README).
 */
export class LeaseLostError extends Error {
  override name = "LeaseLostError";
  constructor(
    /** The task (= promise) id. */
    readonly taskId: string,
    /** The task version this process held (its fencing token's version). */
    readonly version: number,
    readonly why: LeaseLossReason,
    /** The task as the server last showed it, when that is how the loss was found. */
    readonly task?: TaskRecord,
  ) {
    super(`Lease on task "${taskId}" at version ${version} lost: ${describeLoss(why, task)}`);
  }
}

function describeLoss(why: LeaseLossReason, task: TaskRecord | undefined): string {
  switch (why) {
    case "expired":
      return "this process stood still (no heartbeat sent) for longer than the lease could last";
    case "released":
      return "the server took the task back; it is pending again";
    case "reacquired":
      return `the task was acquired again${task ? ` (now version ${task.version}${task.pid === undefined ? "" : `, process ${task.pid}`})` : ""}`;
    case "fulfilled":
      return "the task is fulfilled (its promise was settled elsewhere)";
    case "suspended":
    case "halted":
      return `the task is ${why}`;
    case "gone":
      return "the server has no such task";
    case "redispatched":
      return "the server dispatched the task again";
    case "refused":
      return "the server refused this holder's write (409)";
  }
}

/** Constructing Resonate without what it needs (e.g. no url). */
export class ResonateConfigError extends Error {
  override name = "ResonateConfigError";
}

/** A wait (`result()`) that was still pending when `stop()` was called. */
export class ResonateStoppedError extends Error {
  override name = "ResonateStoppedError";
  constructor(readonly id: string) {
    super(`Resonate was stopped while waiting for the result of "${id}"`);
  }
}

/** The promise was settled by its deadline (`rejected_timedout`). */
export class PromiseTimedOutError extends Error {
  override name = "PromiseTimedOutError";
  constructor(readonly id: string) {
    super(`Promise "${id}" timed out`);
  }
}

/** The promise was canceled (`rejected_canceled`). */
export class PromiseCanceledError extends Error {
  override name = "PromiseCanceledError";
  constructor(readonly id: string) {
    super(`Promise "${id}" was canceled`);
  }
}

/** The promise was rejected with a value that is not an Error (e.g. `throw "oops"` in the function). */
export class PromiseRejectedError extends Error {
  override name = "PromiseRejectedError";
  constructor(readonly id: string, readonly value: unknown) {
    super(typeof value === "string" ? value : `Promise "${id}" was rejected with ${safeJson(value)}`);
  }
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

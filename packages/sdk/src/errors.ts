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

/**
 * The task's identity as a fencing token: each acquire of a task increments its version, so a
 * higher version means a later holder. A store that keeps, per `taskId`, the highest version it has
 * seen and refuses writes carrying a lower one cannot be written by a holder that lost its lease
 * after the next holder wrote (see the SDK README, "Lease loss and fencing").
 */
export interface FencingToken {
  /** The task (= promise) id. */
  readonly taskId: string;
  /** The task version this process acquired; monotonic per task. */
  readonly version: number;
}

/** What a registered function receives as its first argument. */
export interface Context {
  /** The promise (and task) id of this invocation. */
  readonly id: string;
  /** The registered name of the running function. */
  readonly func: string;
  /** The registered version that is running (of the function, not of the task: see fencingToken). */
  readonly version: number;
  /** The promise's deadline (ms since the epoch); a result after it is refused by the server. */
  readonly timeoutAt: number;
  /**
   * Aborted when this process no longer holds the task at its version — the reason is then a
   * LeaseLostError (task id, version, why) — or when the worker stops (an AbortError). The server
   * gives (or gave) the task to another worker and will not take this run's result: a long function
   * should watch the signal and give up. It is a notification, not a lock: writes to other systems
   * must carry `fencingToken`.
   */
  readonly signal: AbortSignal;
  /** This run's fencing token: the task id and the version this process holds it at. */
  readonly fencingToken: FencingToken;
}

/** What a registered function receives as its first argument. */
export interface Context {
  /** The promise (and task) id of this invocation. */
  readonly id: string;
  /** The registered name of the running function. */
  readonly func: string;
  /** The registered version that is running. */
  readonly version: number;
  /** The promise's deadline (ms since the epoch); a result after it is refused by the server. */
  readonly timeoutAt: number;
  /**
   * Aborted when the worker stops. A long function may watch it and give up early; its lease then
   * lapses and the server re-dispatches the task to another worker.
   */
  readonly signal: AbortSignal;
}

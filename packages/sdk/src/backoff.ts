// Exponential back-off: initial, initial*factor, ... capped at max; reset() after a success.
// Used for SSE reconnects (1 s → 30 s, as the official SDK) and for retrying unreachable requests.

export interface BackoffOptions {
  initial: number;
  max: number;
  factor?: number;
}

export class Backoff {
  private attempt = 0;
  private readonly factor: number;

  constructor(private readonly options: BackoffOptions) {
    this.factor = options.factor ?? 2;
  }

  /** The delay before the next attempt; each call grows the following one. */
  next(): number {
    const delay = Math.min(this.options.initial * this.factor ** this.attempt, this.options.max);
    this.attempt++;
    return delay;
  }

  /** How many delays were handed out since the last reset. */
  get attempts(): number {
    return this.attempt;
  }

  reset(): void {
    this.attempt = 0;
  }
}

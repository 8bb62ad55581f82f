// Time behind one seam, so heartbeats, refresh loops and back-off can be tested by moving time
// instead of sleeping. Only this file reads the wall clock or starts real timers.

/** A scheduled callback; cancel() is idempotent. */
export interface Timer {
  cancel(): void;
}

export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): Timer;
  setInterval(fn: () => void, ms: number): Timer;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout(fn, ms) {
    const handle = setTimeout(fn, ms);
    return { cancel: () => clearTimeout(handle) };
  },
  setInterval(fn, ms) {
    const handle = setInterval(fn, ms);
    return { cancel: () => clearInterval(handle) };
  },
};

/**
 * Resolves after `ms` on the given clock (a ManualClock only resolves it when advanced), or at once
 * when `signal` aborts, so that a stopped SDK has no timer left that keeps the process alive.
 */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const onAbort = () => {
      timer.cancel();
      resolve();
    };
    const timer = clock.setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/**
 * A clock for tests: time moves only through advance(), which runs due callbacks in time order.
 * Callbacks run synchronously; `await flush()` afterwards lets the promises they started settle.
 */
export class ManualClock implements Clock {
  private current: number;
  private seq = 0;
  private readonly timers = new Map<number, { at: number; fn: () => void; every: number | undefined }>();

  constructor(start = 1_767_225_600_000) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  setTimeout(fn: () => void, ms: number): Timer {
    return this.add(fn, ms, undefined);
  }

  setInterval(fn: () => void, ms: number): Timer {
    return this.add(fn, ms, Math.max(1, ms));
  }

  /** Number of scheduled callbacks (handy to assert that stop() cancelled everything). */
  get pending(): number {
    return this.timers.size;
  }

  advance(ms: number): void {
    const end = this.current + ms;
    for (;;) {
      let nextId: number | undefined;
      let nextAt = Infinity;
      for (const [id, t] of this.timers) {
        if (t.at <= end && t.at < nextAt) {
          nextAt = t.at;
          nextId = id;
        }
      }
      if (nextId === undefined) break;
      const timer = this.timers.get(nextId)!;
      this.current = timer.at;
      if (timer.every === undefined) this.timers.delete(nextId);
      else timer.at += timer.every;
      timer.fn();
    }
    this.current = end;
  }

  private add(fn: () => void, ms: number, every: number | undefined): Timer {
    const id = ++this.seq;
    this.timers.set(id, { at: this.current + Math.max(0, ms), fn, every });
    return { cancel: () => void this.timers.delete(id) };
  }
}

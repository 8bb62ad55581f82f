import type { Logger } from "pino";
import type { Clock } from "../clock";
import { tick } from "../domain/tick";
import type { Store } from "../store/store";

export interface TimeoutLoopDeps {
  store: Store;
  clock: Clock;
  logger: Logger;
  retryTimeout: number;
  interval: number;
  /** Called after each pass that changed something, so that its messages leave at once. */
  onCommit: () => void;
}

/**
 * The background timeout pass (spec §8.1) every `interval` ms. `runOnce(now)` is the whole pass in
 * one transaction; tests call it directly with the time they want instead of waiting.
 */
export class TimeoutLoop {
  private timer: NodeJS.Timeout | undefined;
  private paused = false;

  constructor(private readonly deps: TimeoutLoopDeps) {}

  runOnce(now = this.deps.clock.now()): number {
    const handled = this.deps.store.transact((tx) =>
      tick({ tx, now, retryTimeout: this.deps.retryTimeout, corrId: "" }, this.deps.logger),
    );
    if (handled > 0) this.deps.onCommit();
    return handled;
  }

  start(): void {
    if (this.timer) return;
    const run = () => {
      let delay = this.deps.interval;
      if (!this.paused) {
        try {
          // A full batch means a backlog: go again at once rather than wait a whole interval.
          if (this.runOnce() >= 1000) delay = 0;
        } catch (error) {
          this.deps.logger.error({ err: error }, "timeout pass failed; retrying next interval");
        }
      }
      this.timer = setTimeout(run, delay);
    };
    this.timer = setTimeout(run, this.deps.interval);
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
  }
}

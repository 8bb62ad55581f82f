import type { Logger } from "pino";
import type { Clock } from "../clock";
import { TICK_BATCH, type TickResult, resumeAfterDowntime, tick } from "../domain/tick";
import type { HistoryOptions } from "../domain/context";
import type { Committer } from "../store/commit/committer";

export interface TimeoutLoopDeps {
  commits: Committer;
  clock: Clock;
  logger: Logger;
  retryTimeout: number;
  interval: number;
  /** Strict mode: only promises with a target are timed out here (spec §13 C1). */
  strict?: boolean;
  /** Present when the dispatch history is on (the pass writes events and prunes old ones). */
  history?: HistoryOptions | undefined;
  /** Told what each pass did (metrics). */
  onPass?: (result: TickResult) => void;
}

/**
 * The background timeout pass (spec §8.1) every `interval` ms, as one transaction through the
 * committer (so the executes and unblocks it queues leave right after its commit). `runOnce(now)`
 * is the whole pass; tests call it directly with the time they want instead of waiting.
 */
export class TimeoutLoop {
  private timer: NodeJS.Timeout | undefined;
  private paused = false;
  private stopped = false;

  constructor(private readonly deps: TimeoutLoopDeps) {}

  async runOnce(now = this.deps.clock.now()): Promise<TickResult> {
    const { retryTimeout, logger, history, strict } = this.deps;
    const result = await this.deps.commits.submit((tx) => tick({ tx, now, retryTimeout, corrId: "", history, strict }, logger));
    this.deps.onPass?.(result);
    return result;
  }

  /**
   * Before the first pass: if no server ran the pass for a while (this one was down), that time
   * does not count against the leases (see resumeAfterDowntime).
   */
  async forgiveDowntime(now = this.deps.clock.now()): Promise<void> {
    const { retryTimeout, interval } = this.deps;
    const { downtime, leases } = await this.deps.commits.submit((tx) =>
      resumeAfterDowntime({ tx, now, retryTimeout, corrId: "" }, interval),
    );
    if (leases > 0) this.deps.logger.info({ downtimeMs: downtime, leases }, "no server ran for a while: leases extended by that time");
  }

  start(): void {
    if (this.timer || this.stopped) return;
    const run = async () => {
      let delay = this.deps.interval;
      if (!this.paused) {
        try {
          // A full batch means a backlog: go again at once rather than wait a whole interval.
          if ((await this.runOnce()).handled >= TICK_BATCH) delay = 0;
        } catch (error) {
          this.deps.logger.error({ err: error }, "timeout pass failed; retrying next interval");
        }
      }
      if (!this.stopped) this.timer = setTimeout(run, delay);
    };
    this.timer = setTimeout(run, this.deps.interval);
  }

  stop(): void {
    this.stopped = true;
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

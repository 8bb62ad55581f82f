import type { Clock, Timer } from "./clock";
import type { HttpClient } from "./http-client";
import { errorText, type Logger } from "./logger";

// Keeps the leases of the tasks this process is executing alive. Every `interval` (ttl/2) while at
// least one task is held it sends task.heartbeat {pid, tasks:[{id, version}...]}: the server extends
// the lease of each listed task that this pid holds at that version (spec §6.2.8). Naming the tasks
// matters: an empty list is accepted but extends nothing. With no task held the timer stops, so an
// idle worker sends nothing.

export interface Heartbeat {
  start(task: { id: string; version: number }): void;
  stop(task?: { id: string; version: number }): void;
}

export class AsyncHeartbeat implements Heartbeat {
  private readonly held = new Map<string, number>();
  private timer: Timer | undefined;

  constructor(
    private readonly pid: string,
    private readonly interval: number,
    private readonly http: Pick<HttpClient, "send">,
    private readonly clock: Clock,
    private readonly logger: Logger,
  ) {}

  start(task: { id: string; version: number }): void {
    this.held.set(task.id, task.version);
    this.timer ??= this.clock.setInterval(() => void this.beat(), this.interval);
  }

  /** Stops beating for one task (only if still held at that version), or for all without an argument. */
  stop(task?: { id: string; version: number }): void {
    if (task === undefined) this.held.clear();
    else if (this.held.get(task.id) === task.version) this.held.delete(task.id);
    if (this.held.size === 0) {
      this.timer?.cancel();
      this.timer = undefined;
    }
  }

  /** The tasks a heartbeat would name now. */
  get tasks(): { id: string; version: number }[] {
    return [...this.held].map(([id, version]) => ({ id, version }));
  }

  /** One heartbeat; failures are logged, not thrown: the next beat tries again. */
  async beat(): Promise<void> {
    const tasks = this.tasks;
    if (tasks.length === 0) return;
    try {
      // One attempt: the next beat is the retry, and a late one is no better than the next.
      const answer = await this.http.send("task.heartbeat", { pid: this.pid, tasks }, { attempts: 1 });
      if (answer.status !== 200) this.logger.warn({ pid: this.pid, status: answer.status }, "heartbeat refused");
      else this.logger.debug({ pid: this.pid, tasks: tasks.length }, "heartbeat sent");
    } catch (err) {
      this.logger.warn({ pid: this.pid, error: errorText(err) }, "heartbeat failed");
    }
  }
}

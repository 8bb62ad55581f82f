import type { TaskRecord } from "@resonate-compat/protocol";
import type { Clock, Timer } from "./clock";
import { LeaseLostError, type LeaseLossReason } from "./errors";
import type { HttpClient } from "./http-client";
import { errorText, type Logger } from "./logger";

// Keeps the leases of the tasks this process is executing alive, and finds out when one is gone.
//
// Renewal. Every `interval` (ttl/2) while at least one task is held it sends task.heartbeat
// {pid, tasks:[{id, version}...]}: the server extends the lease of each listed task that this pid
// holds at that version (spec §6.2.8). Naming the tasks matters: an empty list is accepted but
// extends nothing. With no task held the timers stop, so an idle worker sends nothing.
//
// Verification. The server answers every heartbeat with 200 {} and does not say which leases it
// extended, so after each heartbeat the task of every lease is read back (task.get): `acquired`, at
// the version held, by this pid → still ours; anything else → lost (LeaseLostError, see errors.ts
// for the reasons), reported once through the task's onLost, and the task is no longer named in
// heartbeats. check() runs the same reads at once (the runner calls it when the poll stream
// reopens: while it was down the server may have taken the leases back).
//
// A frozen process. A process whose event loop stood still (SIGSTOP, a debugger, a paused VM, a long
// synchronous stretch) sent no heartbeat meanwhile, and its leases may have lapsed long ago; when it
// resumes, its function's next timer may fire before any answer from the server could arrive. So
// each lease also has a lower bound of its end on this process's clock: a lease granted or renewed on
// a request sent at t lasts at least until t + ttl (the server acts after t). An acquire sent at t
// gives t + ttl; a heartbeat sent at t counts once a task.get answered after it shows the task still
// acquired at our version (versions only grow, so it was held at that version all along and the
// heartbeat renewed it). A watchdog every `watchdogInterval` (100 ms, and first thing in each beat)
// looks at the bound: if it has passed AND this process itself is overdue with its heartbeats (none
// attempted for 1.5 intervals: its event loop did not run), the lease is taken for lost ("expired")
// there and then, synchronously, without asking the server. On resume the watchdog's timer is among
// the first due, so the signal is aborted before the function's own timers that were due more than
// one watchdog interval after the freeze began (on Linux, when the loop was idle at the freeze, the
// usual case, also before I/O that completed meanwhile: libuv runs due timers first).
//
// A process that kept heartbeating on schedule but got no confirmation (the server is down or cut
// off) does not give its leases up on its own clock: a restarted server does not count its downtime
// against leases, so a live worker keeps its task. It learns of a loss when the server answers again.
//
// All of this is a notification, not a lock: a request the function sent before a freeze may land
// after it, and a partition hides the loss until it heals. Fencing tokens are the guarantee.

export interface HeldTask {
  id: string;
  version: number;
}

export interface LeaseOptions {
  /** When the acquire of this lease was sent (clock ms): the lease lasts at least until since + ttl. */
  since: number;
  /** Called at most once, when the lease is found lost; the task is then no longer heartbeated. */
  onLost: (err: LeaseLostError) => void;
}

export interface Heartbeat {
  start(task: HeldTask, lease?: LeaseOptions): void;
  stop(task?: HeldTask): void;
  /** Verifies every held lease now (e.g. the poll stream reopened). */
  check?(): void;
}

interface Held {
  version: number;
  /** Lower bound of the lease's end on our clock; Infinity when not watched (no LeaseOptions). */
  validUntil: number;
  onLost: ((err: LeaseLostError) => void) | undefined;
}

export const DEFAULT_WATCHDOG_INTERVAL = 100;

export class AsyncHeartbeat implements Heartbeat {
  private readonly held = new Map<string, Held>();
  private timer: Timer | undefined;
  private watchdog: Timer | undefined;
  private readonly ttl: number;
  private readonly watchdogInterval: number;
  /** When the last heartbeat was sent (or the heartbeat schedule started). */
  private lastAttempt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly pid: string,
    private readonly interval: number,
    private readonly http: Pick<HttpClient, "send">,
    private readonly clock: Clock,
    private readonly logger: Logger,
    /** The ttl asked for at acquire (default: two intervals, as the SDK sets them). */
    ttl?: number,
    watchdogInterval = DEFAULT_WATCHDOG_INTERVAL,
  ) {
    this.ttl = ttl ?? interval * 2;
    this.watchdogInterval = Math.max(1, Math.min(watchdogInterval, interval));
  }

  start(task: HeldTask, lease?: LeaseOptions): void {
    this.held.set(task.id, {
      version: task.version,
      validUntil: lease ? lease.since + this.ttl : Number.POSITIVE_INFINITY,
      onLost: lease?.onLost,
    });
    if (this.timer === undefined) {
      this.timer = this.clock.setInterval(() => void this.beat(), this.interval);
      this.lastAttempt = this.clock.now();
    }
    if (lease) this.watchdog ??= this.clock.setInterval(() => this.expire(), this.watchdogInterval);
  }

  /** Stops beating for one task (only if still held at that version), or for all without an argument. */
  stop(task?: HeldTask): void {
    if (task === undefined) this.held.clear();
    else if (this.held.get(task.id)?.version === task.version) this.held.delete(task.id);
    this.idleTimers();
  }

  /** The tasks a heartbeat would name now. */
  get tasks(): HeldTask[] {
    return [...this.held].map(([id, { version }]) => ({ id, version }));
  }

  /** One heartbeat, then the verification of every lease it named; failures are logged, not thrown. */
  async beat(): Promise<void> {
    this.expire(); // after a freeze this beat may run before the watchdog: judge the leases first
    const tasks = this.tasks;
    if (tasks.length === 0) return;
    const sentAt = this.clock.now();
    this.lastAttempt = sentAt;
    let renewed = false;
    try {
      // One attempt: the next beat is the retry, and a late one is no better than the next.
      const answer = await this.http.send("task.heartbeat", { pid: this.pid, tasks }, { attempts: 1 });
      renewed = answer.status === 200;
      if (!renewed) this.logger.warn({ pid: this.pid, status: answer.status }, "heartbeat refused");
      else this.logger.debug({ pid: this.pid, tasks: tasks.length }, "heartbeat sent");
    } catch (err) {
      this.logger.warn({ pid: this.pid, error: errorText(err) }, "heartbeat failed");
    }
    await this.verify(tasks, renewed ? sentAt : undefined);
  }

  check(): void {
    void this.verify(this.tasks, undefined);
  }

  /** Reads back each task; `renewedAt` is the send time of a heartbeat answered 200 just before. */
  private async verify(tasks: HeldTask[], renewedAt: number | undefined): Promise<void> {
    await Promise.all(
      tasks.map(async (t) => {
        let answer;
        try {
          answer = await this.http.send("task.get", { id: t.id }, { attempts: 1 });
        } catch (err) {
          // Unknown: the next beat asks again (and the watchdog covers a process that stood still).
          this.logger.debug({ id: t.id, error: errorText(err) }, "lease check failed");
          return;
        }
        const held = this.held.get(t.id);
        if (held?.version !== t.version) return; // finished (or lost) meanwhile
        if (answer.status === 404) return this.lose(t, "gone");
        const task = answer.status === 200 && typeof answer.data === "object" ? answer.data.task : undefined;
        if (typeof task !== "object" || task === null) return; // not an answer we can read: unknown
        if (task.state === "acquired" && task.version === t.version && task.pid === this.pid) {
          if (renewedAt !== undefined) held.validUntil = Math.max(held.validUntil, renewedAt + this.ttl);
          return;
        }
        this.lose(t, lossOf(task, t.version), task);
      }),
    );
  }

  /**
   * The watchdog: when this process is overdue with its heartbeats (its event loop stood still), a
   * lease whose lower bound has passed without a confirmed renewal is lost.
   */
  private expire(): void {
    const now = this.clock.now();
    if (now - this.lastAttempt <= this.interval * 1.5) return;
    for (const [id, held] of [...this.held]) {
      if (now > held.validUntil) this.lose({ id, version: held.version }, "expired");
    }
  }

  private lose(task: HeldTask, why: LeaseLossReason, record?: TaskRecord): void {
    const held = this.held.get(task.id);
    if (held?.version !== task.version) return;
    this.held.delete(task.id);
    this.idleTimers();
    const err = new LeaseLostError(task.id, task.version, why, record);
    held.onLost?.(err);
    this.logger.warn({ id: task.id, version: task.version, why, state: record?.state, current: record?.version }, "lease lost");
  }

  private idleTimers(): void {
    if (this.held.size === 0) {
      this.timer?.cancel();
      this.timer = undefined;
    }
    if (![...this.held.values()].some((h) => h.validUntil !== Number.POSITIVE_INFINITY)) {
      this.watchdog?.cancel();
      this.watchdog = undefined;
    }
  }
}

function lossOf(task: TaskRecord, version: number): LeaseLossReason {
  if (task.state === "fulfilled") return "fulfilled";
  if (task.version !== version) return "reacquired";
  switch (task.state) {
    case "pending":
      return "released";
    case "suspended":
      return "suspended";
    case "halted":
      return "halted";
    case "acquired":
      return "reacquired"; // same version, another pid: cannot happen (each acquire bumps the version)
  }
}

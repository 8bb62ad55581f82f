import { randomUUID } from "node:crypto";
import { setMaxListeners } from "node:events";
import { PROTOCOL_VERSION, type PromiseRecord, type SettleState, type TaskRecord, TAG } from "@resonate-compat/protocol";
import { type Clock, systemClock } from "./clock";
import { CodecError, decodeInvocation, encode } from "./codec";
import { FunctionNotRegisteredError, LeaseLostError } from "./errors";
import type { Context } from "./context";
import type { Heartbeat } from "./heartbeat";
import { type HttpClient, messageOf } from "./http-client";
import { errorText, type Logger } from "./logger";
import type { Registry } from "./registry";

// Executes the tasks the server offers this process (execute messages), spec §12.2 steps 4–7:
//   execute {id, version} → local queue → task.acquire (id, version, pid, ttl) → run the function
//   named in the promise param → task.fulfill with the value (resolved) or the thrown error (rejected).
//
// Concurrency: at most `concurrency` tasks are being acquired or run at once. Further executes wait
// in a local queue *unacquired*: a task we cannot start stays pending on the server, where its retry
// timeout can still hand it to another worker. The queue keeps one entry per task id.
//
// Outcomes that are not a result:
//   - acquire answers 409/404: another worker won the race, or the task is gone: dropped (debug log).
//   - the function is not registered here: logged as an error and the task is fulfilled as
//     *rejected* with an Error naming the function, the group and the pid. (The official SDK releases
//     it instead, which re-dispatches it at once: with one worker that has no such function this
//     loops forever, and the caller never learns why. A worker group is meant to be homogeneous.)
//   - a durable-sleep timer task (tag resonate:timer, created by official SDK 0.11.5 workflows in our
//     group): not ours to settle; dropped without fulfill or release, like the official SDK does,
//     so its lease lapses and the server settles it at its deadline.
//   - the lease is lost while the function runs (the heartbeat's checks find the task taken back,
//     re-acquired or settled, or this process stood still past its lease; or an execute for the task
//     at the version we hold arrives, which the server sends only for a pending task): the function's
//     ctx.signal aborts with a LeaseLostError and the task is no longer heartbeated. A loss the server
//     showed (the task taken back, re-acquired, settled, halted…) means the result is not sent: it
//     would be refused. A loss this process only inferred from its own clock ("expired": it stood
//     still past its lease) is checked with the server once the function returns (see afterExpiry).
//     The function may go on running (JavaScript cannot stop it); its slot stays taken until it returns.
//   - the fulfill answers 409: we lost the lease (the task was re-dispatched); the result is dropped
//     and the signal aborts with a LeaseLostError ("refused") for whatever still listens.
//
// Eager acquire (over the channel, protocol/src/channel.ts): the server may acquire a task for us and
// send the acquire's answer instead of the execute (onAcquired). It does so only while we have fewer
// than `concurrency` tasks in hand by its count, so the task normally starts at once; when a slot is
// not free yet here (the answer of the fulfill that freed it by the server's count is still being
// read), the task waits in `ready`, its lease held and heartbeated, and starts first when one frees.
// Its lease's lower bound (see heartbeat.ts) starts when its answer is read: later than the acquire
// by the frame's way here, which in a process that stood still meanwhile can be long; the first
// heartbeat's check, and fencing, cover that case.
//
// stop(): queued tasks are handed back (acquire + release, so the server re-dispatches them at once
// instead of after its retry timeout); a task whose acquire is in flight is released as soon as it
// is acquired; running functions are abandoned: their signal is aborted, heartbeats stop, results
// are not sent, and their leases lapse so the server re-dispatches them.

export interface TaskRunnerOptions {
  http: Pick<HttpClient, "send">;
  registry: Registry;
  heartbeat: Heartbeat;
  pid: string;
  group: string;
  ttl: number;
  concurrency: number;
  logger: Logger;
  /** Times the acquires (the lease's lower bound starts when the acquire is sent). */
  clock?: Clock;
  /** Called whenever `free` may have changed (the channel reports it for eager acquires). */
  onLoad?: () => void;
  /** How long stop() waits for hand-backs and in-flight acquires before giving up on them. */
  stopGrace?: number;
}

interface Outcome {
  state: SettleState;
  value: unknown;
}

/** A task acquired for us (eager acquire) and waiting for a slot. */
interface Ready {
  task: TaskRecord;
  promise: PromiseRecord;
  /** When its acquire's answer was read: the lower bound of its lease starts there. */
  since: number;
}

/** A task whose function is running here. */
interface Running {
  version: number;
  /** Its ctx.signal: aborted on lease loss (LeaseLostError) or stop. */
  controller: AbortController;
}

interface Slot {
  /** Settles when the acquire step is over (acquired, refused, or released because we are stopping). */
  acquired: Promise<void>;
}

export class TaskRunner {
  private readonly queue = new Map<string, number>();
  private readonly ready = new Map<string, Ready>();
  private readonly slots = new Map<string, Slot>();
  private readonly running = new Map<string, Running>();
  private readonly stopping = new AbortController();

  constructor(private readonly options: TaskRunnerOptions) {
    // Every running task listens on this signal (to abort its own on stop()); without a limit a
    // worker running more than ten functions at once would print a MaxListenersExceededWarning.
    setMaxListeners(0, this.stopping.signal);
  }

  /** Number of tasks being acquired or run, and number waiting in the local queue. */
  get load(): { active: number; queued: number } {
    return { active: this.slots.size, queued: this.queue.size + this.ready.size };
  }

  /** Slots free once every task waiting here has one (at most `limit`): the room for eager acquires. */
  free(limit: number): number {
    if (this.stopping.signal.aborted) return 0;
    return Math.max(0, Math.min(this.options.concurrency, limit) - this.slots.size - this.queue.size - this.ready.size);
  }

  onExecute(task: { id: string; version: number }): void {
    if (this.stopping.signal.aborted) return;
    // The server sends an execute at version v only while the task is pending at v: if we run it
    // at v, our lease is gone (the execute still queues, to be acquired once the function returns).
    const running = this.running.get(task.id);
    if (running && task.version >= running.version) this.lose(task.id, new LeaseLostError(task.id, running.version, "redispatched"));
    const ready = this.ready.get(task.id);
    if (ready && task.version >= ready.task.version) this.dropReady(ready.task);
    const queued = this.queue.get(task.id);
    // An execute always carries the task's current version; a newer one supersedes a queued older one.
    if (queued === undefined || task.version > queued) this.queue.set(task.id, task.version);
    this.pump();
  }

  /**
   * A task the server acquired for this process (the answer of a task.acquire it sent on our
   * behalf): run it now if a slot is free, else keep it, leased and heartbeated, until one is.
   */
  onAcquired(acquired: { task: TaskRecord; promise: PromiseRecord }): void {
    const { task, promise } = acquired;
    const since = (this.options.clock ?? systemClock).now();
    if (this.stopping.signal.aborted) {
      void this.release(task);
      return;
    }
    // It supersedes an execute of the same task waiting here: that version is no longer pending.
    const queued = this.queue.get(task.id);
    if (queued !== undefined && queued < task.version) this.queue.delete(task.id);
    const running = this.running.get(task.id);
    if (running && task.version > running.version) this.lose(task.id, new LeaseLostError(task.id, running.version, "redispatched"));
    this.ready.set(task.id, { task, promise, since });
    this.options.heartbeat.start(task, { since, onLost: () => this.dropReady(task) });
    this.pump();
  }

  async stop(): Promise<void> {
    if (this.stopping.signal.aborted) return;
    this.stopping.abort();
    this.options.heartbeat.stop();
    const handBacks = [...this.queue].map(([id, version]) => this.handBack(id, version));
    for (const { task } of this.ready.values()) handBacks.push(this.release(task));
    this.ready.clear();
    this.queue.clear();
    this.options.onLoad?.(); // no room any more
    const acquiring = [...this.slots.values()].map((slot) => slot.acquired);
    await withDeadline(Promise.allSettled([...handBacks, ...acquiring]), this.options.stopGrace ?? 5_000);
  }

  /**
   * Starts tasks while there is room: those acquired for us first (their leases are running), then
   * queued executes; a task id already running waits for its slot.
   */
  private pump(): void {
    this.fillSlots();
    this.options.onLoad?.();
  }

  private fillSlots(): void {
    while (!this.stopping.signal.aborted && this.slots.size < this.options.concurrency) {
      const ready = [...this.ready.values()].find(({ task }) => !this.slots.has(task.id));
      if (ready) {
        this.ready.delete(ready.task.id);
        this.occupy(ready.task.id, (acquireDone) => {
          acquireDone();
          return this.runAcquired(ready.task, ready.promise, ready.since);
        });
        continue;
      }
      const next = [...this.queue].find(([id]) => !this.slots.has(id));
      if (!next) return;
      const [id, version] = next;
      this.queue.delete(id);
      this.occupy(id, (acquireDone) => this.execute(id, version, acquireDone));
    }
  }

  /** Runs `work` in a slot of its own for task `id`; the slot frees (and the next task starts) when it ends. */
  private occupy(id: string, work: (acquireDone: () => void) => Promise<void>): void {
    let acquireDone!: () => void;
    const slot: Slot = { acquired: new Promise<void>((resolve) => (acquireDone = resolve)) };
    this.slots.set(id, slot);
    void work(acquireDone)
      .catch((err: unknown) => this.options.logger.error({ id, error: errorText(err) }, "task execution failed unexpectedly"))
      .finally(() => {
        acquireDone();
        this.slots.delete(id);
        this.pump();
      });
  }

  /** A task acquired for us lost its lease while it waited for a slot: it will not run here. */
  private dropReady(task: TaskRecord): void {
    const ready = this.ready.get(task.id);
    if (!ready || ready.task.version !== task.version) return;
    this.ready.delete(task.id);
    this.options.heartbeat.stop(task);
    this.options.logger.info({ id: task.id, version: task.version }, "lease lost before the task could start: not run here");
    this.options.onLoad?.();
  }

  private async execute(id: string, version: number, acquireDone: () => void): Promise<void> {
    const acquireSentAt = (this.options.clock ?? systemClock).now();
    const acquired = await this.acquire(id, version);
    if (!acquired) return;
    const { task, promise } = acquired;
    if (this.stopping.signal.aborted) {
      await this.release(task);
      return;
    }
    acquireDone();
    await this.runAcquired(task, promise, acquireSentAt);
  }

  /** Runs the function of a task this process holds (acquired at `since` or later) and sends its result. */
  private async runAcquired(task: TaskRecord, promise: PromiseRecord, since: number): Promise<void> {
    const { logger, pid, heartbeat } = this.options;
    const id = task.id;
    if (promise.tags[TAG.timer] === "true") {
      logger.debug({ id, timeoutAt: promise.timeoutAt }, "dropping a timer task: the server settles it at its deadline");
      heartbeat.stop(task); // one acquired for us was heartbeated while it waited
      return;
    }

    logger.debug({ id, version: task.version, pid }, "task acquired");
    const controller = new AbortController();
    const onStop = () => controller.abort(this.stopping.signal.reason);
    this.stopping.signal.addEventListener("abort", onStop, { once: true });
    this.running.set(id, { version: task.version, controller });
    heartbeat.start(task, { since, onLost: (err) => this.lose(id, err) });
    let outcome: Outcome;
    try {
      outcome = await this.run(promise, task, controller.signal);
    } finally {
      heartbeat.stop(task);
      this.running.delete(id);
      this.stopping.signal.removeEventListener("abort", onStop);
    }
    if (this.stopping.signal.aborted) {
      logger.info({ id, version: task.version }, "stopped while running: result not sent, the lease will lapse");
      return;
    }
    const lost: unknown = controller.signal.reason;
    if (lost instanceof LeaseLostError) {
      if (lost.why === "expired") await this.afterExpiry(task, outcome, controller);
      else logger.warn({ id, version: task.version, why: lost.why }, "lease lost while running: result not sent");
      return;
    }
    await this.fulfill(task, outcome, controller);
  }

  /**
   * After an "expired" loss, which this process inferred from its own clock, the server decides:
   *   - it still holds the task for us at this version (it stood still too, or was down: its downtime
   *     does not count against leases): the run was told to give up, so its result is not trusted;
   *     the task is released and runs again at once;
   *   - it does not: the result goes out as a fenced task.fulfill anyway, which can only be refused
   *     (409: versions never go back), so that the stale write shows where stale writes are watched
   *     (the server's log and history; packages/e2e's fencing test waits for this refusal);
   *   - no answer: nothing is sent; the lease lapses on its own.
   */
  private async afterExpiry(task: TaskRecord, outcome: Outcome, controller: AbortController): Promise<void> {
    const { http, logger, pid } = this.options;
    let answer;
    try {
      // A few attempts: after standing still, the pooled connections may be dead (a server restarted).
      answer = await http.send("task.get", { id: task.id }, { attempts: 3 });
    } catch (err) {
      logger.warn({ id: task.id, version: task.version, error: errorText(err) }, "lease expired and the server cannot tell: result not sent");
      return;
    }
    const current = answer.status === 200 && typeof answer.data === "object" ? answer.data.task : undefined;
    if (current?.state === "acquired" && current.version === task.version && current.pid === pid) {
      logger.warn({ id: task.id, version: task.version }, "lease expired while this process stood still, yet the server still holds it for us: released, to run again");
      await this.release(task);
      return;
    }
    if (current === undefined && answer.status !== 404) {
      logger.warn({ id: task.id, version: task.version, status: answer.status }, "lease expired and the server cannot tell: result not sent");
      return;
    }
    await this.fulfill(task, outcome, controller);
  }

  /** The lease of a running task is gone: abort its signal and stop heartbeating it (once). */
  private lose(id: string, err: LeaseLostError): void {
    const running = this.running.get(id);
    if (!running || running.version !== err.version || running.controller.signal.aborted) return;
    this.options.heartbeat.stop({ id, version: running.version });
    running.controller.abort(err);
  }

  private async acquire(id: string, version: number): Promise<{ task: TaskRecord; promise: PromiseRecord } | undefined> {
    const { http, pid, ttl, logger } = this.options;
    try {
      const answer = await http.send("task.acquire", { id, version, pid, ttl });
      if (answer.status === 200 && typeof answer.data === "object") return answer.data;
      // 409: another worker acquired it first (or it moved on); 404: it is gone. Nothing to do.
      logger.debug({ id, version, status: answer.status, reason: messageOf(answer.data) }, "task not acquired");
    } catch (err) {
      logger.warn({ id, version, error: errorText(err) }, "task acquire failed; the server will dispatch it again");
    }
    return undefined;
  }

  private async run(promise: PromiseRecord, task: TaskRecord, signal: AbortSignal): Promise<Outcome> {
    const { registry, logger, group, pid } = this.options;
    let invocation;
    try {
      invocation = decodeInvocation(promise.param);
    } catch (err) {
      return { state: "rejected", value: err };
    }
    if (!invocation) {
      return { state: "rejected", value: new TypeError(`Task "${promise.id}" does not name a function: its param is not {func, args, version}`) };
    }
    const registered = registry.get(invocation.func, invocation.version);
    if (!registered) {
      const message = `Function "${invocation.func}" (version ${invocation.version}) is not registered on worker ${pid} of group "${group}"`;
      logger.error({ id: promise.id, func: invocation.func, version: invocation.version }, message);
      return { state: "rejected", value: new FunctionNotRegisteredError(message) };
    }
    const ctx: Context = {
      id: promise.id,
      func: registered.name,
      version: registered.version,
      timeoutAt: promise.timeoutAt,
      signal,
      fencingToken: Object.freeze({ taskId: task.id, version: task.version }),
    };
    try {
      return { state: "resolved", value: await registered.fn(ctx, ...invocation.args) };
    } catch (err) {
      return { state: "rejected", value: err };
    }
  }

  private async fulfill(task: TaskRecord, outcome: Outcome, controller: AbortController): Promise<void> {
    const { http, logger } = this.options;
    let value;
    let state = outcome.state;
    try {
      value = encode(outcome.value);
    } catch (err) {
      // A result that cannot travel (a BigInt, a cycle) becomes a rejection that says so.
      if (!(err instanceof CodecError)) throw err;
      state = "rejected";
      value = encode(new CodecError(`The result of "${task.id}" cannot be encoded: ${err.message}`));
    }
    try {
      const answer = await http.send("task.fulfill", {
        id: task.id,
        version: task.version,
        action: {
          kind: "promise.settle",
          head: { corrId: randomUUID(), version: PROTOCOL_VERSION },
          data: { id: task.id, state, value },
        },
      });
      if (answer.status === 200) logger.debug({ id: task.id, version: task.version, state }, "task fulfilled");
      else {
        logger.info({ id: task.id, version: task.version, status: answer.status, reason: messageOf(answer.data) }, "result refused (lease lost or promise already settled)");
        if (answer.status === 409 && !controller.signal.aborted) controller.abort(new LeaseLostError(task.id, task.version, "refused"));
      }
    } catch (err) {
      // Stopped while the fulfill was on its way (stop() closes the transport): the server may have
      // committed it already; if not, the lease lapses and the task runs again. Not a failure to warn of.
      if (this.stopping.signal.aborted) logger.info({ id: task.id, version: task.version }, "stopped before the fulfill's answer came: the server has the result, or the task runs again once its lease lapses");
      else logger.warn({ id: task.id, version: task.version, error: errorText(err) }, "task fulfill failed; the lease will lapse and the task run again");
    }
  }

  private async release(task: TaskRecord): Promise<void> {
    try {
      const answer = await this.options.http.send("task.release", { id: task.id, version: task.version }, { attempts: 1 });
      this.options.logger.debug({ id: task.id, version: task.version, status: answer.status }, "task released");
    } catch (err) {
      this.options.logger.warn({ id: task.id, version: task.version, error: errorText(err) }, "task release failed; the lease will lapse");
    }
  }

  /** Acquire-then-release: the only way to make the server re-dispatch a pending task now. */
  private async handBack(id: string, version: number): Promise<void> {
    try {
      const answer = await this.options.http.send("task.acquire", { id, version, pid: this.options.pid, ttl: this.options.ttl }, { attempts: 1 });
      if (answer.status === 200 && typeof answer.data === "object") await this.release(answer.data.task);
    } catch (err) {
      this.options.logger.debug({ id, version, error: errorText(err) }, "hand-back failed; the server's retry timeout will re-dispatch the task");
    }
  }
}

function withDeadline(work: Promise<unknown>, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    void work.finally(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}

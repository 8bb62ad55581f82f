import type { ExecuteMessage, Message, UnblockMessage } from "@resonate-compat/protocol";
import { parseAddress } from "@resonate-compat/protocol";
import type { Logger } from "pino";
import type { Clock } from "../clock";
import { delayedUntil } from "../domain/create";
import type { Metrics } from "../observability/metrics";
import type { Committer } from "../store/commit/committer";
import type { Op } from "../store/op";
import type { Forward, Outgoing, TaskEvent, Tx } from "../store/store";
import { Offers, type Offer } from "./offers";
import { RecentExecutes } from "./recent-executes";
import { type StreamDirectory, type StreamRef, routeWithin, streamKey } from "./streams";

const CLAIM_BATCH = 100;
/** How many pending tasks a newly connected worker is offered at once. */
const BACKLOG_BATCH = 1000;
/** Unanswered backlog offers one stream may have at a time (well below its buffer). */
const OFFERS_PER_STREAM = 32;
/** How long after a stream opens its group's backlog is offered. */
const BACKLOG_SETTLE_MS = 200;
/** A forwarded execute this soon after this replica's own offer of the task is a duplicate. */
const DUPLICATE_WITHIN_MS = 1_000;
/** How long a forwarded (or claimed, undelivered) execute keeps this replica's backlog passes off its task. */
const FORWARDED_MEMORY_MS = 10_000;

export interface DispatcherDeps {
  directory: StreamDirectory;
  clock: Clock;
  logger: Logger;
  /** head.serverUrl of execute messages. */
  readonly serverUrl: string;
  /** An execute not acquired within this many ms is offered to another stream of the group (0 = never). */
  reofferAfter: number;
  /** Sends a message to an http(s) address; failures are only logged (spec §7.4). */
  push: (url: string, message: Message) => void;
  random?: () => number;
  /** Writes an event per execute routed (offered, re-offered, unrouted) into the task's history. */
  history?: boolean;
  /** Counts messages, their outcomes and re-offers. */
  metrics?: Metrics | undefined;
}

/** Where one claimed message goes, decided inside the transaction that claimed it. */
export type Delivery =
  | { to: "stream"; outgoing: Outgoing; stream: StreamRef; message: string; pick?: RoutePick }
  | { to: "http"; outgoing: Outgoing; url: string; message: Message }
  | { to: "nowhere"; outgoing: Outgoing; why: string };

/** Why an execute went to its stream, as the task's history tells it. */
export interface RoutePick {
  /** Leases the process held, and executes offered to its stream and not yet acquired. */
  held: number;
  offered: number;
  /** Streams it was chosen among. */
  candidates: number;
  /** "addressed": the address named this process; "least-loaded": the fewest tasks in hand. */
  how: "addressed" | "least-loaded";
}

/**
 * Routes and hands out the messages that transactions queue. Every committed change claims what it
 * queued inside its own transaction (`claim`, a commit hook), where each message is given its
 * stream: a stream of this server gets it right after the commit (`deliverAll`); a stream held by
 * another replica gets it through a forward row written in that same transaction, so that it is as
 * durable as the change itself. Delivery is at most once; a lost execute is recovered by a re-offer
 * or the task's retry timeout, a lost unblock by the SDK's periodic listener refresh (spec §7.2).
 *
 * Within a group, an execute goes to the stream whose process has the fewest tasks in hand: leases
 * it holds plus executes offered to it and not yet acquired. The reference picks at random.
 */
export class Dispatcher {
  private readonly offers = new Offers();
  private commits: Committer | undefined;
  private scheduled = false;
  private paused = false;
  private stopped = false;
  private reofferTimer: NodeJS.Timeout | undefined;
  private readonly backlogTimers = new Map<string, NodeJS.Timeout>();
  /** Groups whose backlog was larger than their streams had room for. */
  private readonly backlogged = new Set<string>();
  /** Leases per process as of the last claim; offers made since are counted by `offers`. */
  private leases = new Map<string, number>();
  /** The dispatcher's own jobs (drains, re-offers, backlog offers) not yet settled. */
  private readonly running = new Set<Promise<unknown>>();
  /** Tasks queued again to be re-offered: routed away from the streams that had them already. */
  private readonly reoffering = new Set<string>();
  /**
   * Tasks queued by a backlog pass. On PostgreSQL the pass may read a task that another transaction
   * committed a moment ago and is about to offer: such a backlog execute is dropped at delivery if
   * the task has been offered meanwhile.
   */
  private readonly backlogging = new Set<string>();
  /**
   * Executes other replicas routed to this replica's streams, by task, with when they came: the
   * replica that routed one keeps its offer (and re-offers it), so only this replica's backlog
   * passes need to know of it.
   */
  private readonly forwarded = new RecentExecutes(FORWARDED_MEMORY_MS);
  /**
   * Executes claimed by a transaction here and not delivered yet, by task. The claim runs before
   * the commit, the delivery after it: on PostgreSQL a backlog pass can read a task whose creating
   * transaction has committed in that gap, and must leave it alone, or the task is offered twice.
   * An entry whose transaction rolled back is never delivered; it expires.
   */
  private readonly claimed = new RecentExecutes(FORWARDED_MEMORY_MS);

  constructor(private readonly deps: DispatcherDeps) {}

  /** The committer whose transactions the dispatcher's own work (drains, re-offers, backlog) uses. */
  attach(commits: Committer): void {
    this.commits = commits;
  }

  /** Asks for a drain of the outbox soon; many kicks in one turn of the event loop make one drain. */
  kick(): void {
    if (this.scheduled || this.paused || this.stopped) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      void this.drain();
    });
  }

  /** A task was acquired: its offer is answered, and its stream has room for more backlog. */
  acquired(taskId: string): void {
    this.forwarded.forget(taskId);
    const offer = this.offers.forget(taskId);
    if (offer && this.backlogged.has(offer.stream.group)) this.scheduleBacklog(offer.stream.group);
  }

  /**
   * A stream opened: hand its group the backlog of pending tasks nobody is being offered, instead
   * of leaving them to the retry timeout. Waits a moment first, so that when many workers connect
   * together (a server restart) the backlog spreads over all of them.
   */
  connected(stream: Pick<StreamRef, "group">): void {
    this.scheduleBacklog(stream.group);
  }

  /** A stream closed: what was offered to it and not acquired goes to another stream now. */
  disconnected(stream: StreamRef): void {
    const orphans = this.offers.forStream(stream).filter((o) => !this.reoffering.has(o.taskId));
    if (orphans.length > 0 && !this.stopped) this.reoffer(orphans);
  }

  /**
   * Another replica routed an execute to one of this replica's streams (a forward row). A backlog
   * pass here may have read the same task, committed a moment before, and offered it already: the
   * forwarded execute is then a duplicate and is not sent. Otherwise it is remembered, so that a
   * backlog pass here does not offer the task a second time.
   */
  acceptForwarded(taskId: string, version: number): boolean {
    const now = this.deps.clock.now();
    const own = this.offers.get(taskId);
    if (own?.version === version && own.sentAt >= now - DUPLICATE_WITHIN_MS) return false;
    if (this.forwarded.size >= 1000) this.forwarded.sweep(now);
    this.forwarded.note(taskId, version, now);
    return true;
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    this.kick();
  }

  start(): void {
    const { reofferAfter } = this.deps;
    if (reofferAfter <= 0 || this.reofferTimer) return;
    this.reofferTimer = setInterval(() => {
      if (this.paused || this.stopped || this.offers.size === 0) return;
      // Offers being re-offered right now are not stale twice (their transaction may still run).
      const stale = this.offers.stale(this.deps.clock.now() - reofferAfter).filter((o) => !this.reoffering.has(o.taskId));
      if (stale.length > 0) this.reoffer(stale);
    }, Math.max(50, Math.floor(reofferAfter / 2)));
    this.reofferTimer.unref();
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.reofferTimer);
    for (const timer of this.backlogTimers.values()) clearTimeout(timer);
  }

  /** Claims and sends what waits in the outbox (an empty transaction whose commit hook claims). */
  async drain(): Promise<void> {
    if (this.paused || this.stopped) return;
    await this.run("claiming outgoing messages failed", nothing);
  }

  /**
   * The commit hook: claims the messages queued by the transaction (and what waits in the outbox),
   * decides where each goes, and writes forward rows for streams held by other replicas. Nothing
   * here changes the dispatcher's own state for good: the transaction may still roll back or, on a
   * store with concurrent writers, run again.
   */
  *claim(tx: Tx): Op<Delivery[]> {
    if (this.paused || this.stopped) return [];
    const batch = yield* tx.claimOutgoing(CLAIM_BATCH);
    if (batch.length === 0) return [];
    if (batch.length >= CLAIM_BATCH) this.kick();
    // Lease counts are only needed to route executes within a group.
    if (batch.some((m) => m.kind === "execute")) this.leases = yield* tx.leaseCounts();
    const planned = new Map<string, number>();
    const plan = batch.map((outgoing) => this.route(outgoing, planned));
    const now = this.deps.clock.now();
    if (this.claimed.size >= 1000) this.claimed.sweep(now);
    for (const { outgoing } of plan) if (outgoing.kind === "execute") this.claimed.note(outgoing.taskId, outgoing.version, now);
    const forwards: Forward[] = [];
    for (const d of plan) {
      if (d.to !== "stream" || d.stream.connection) continue;
      const { outgoing } = d;
      forwards.push({
        replica: d.stream.replica,
        stream: d.stream.seq,
        pid: d.stream.id,
        address: outgoing.address,
        kind: outgoing.kind,
        id: outgoing.kind === "execute" ? outgoing.taskId : outgoing.promise.id,
        message: d.message,
      });
    }
    if (forwards.length > 0) yield* tx.forward(forwards);
    if (this.deps.history) yield* tx.appendTaskEvents(this.events(plan));
    return plan;
  }

  /** The history of each execute routed: where it went and why, written with the claim. */
  private events(plan: Delivery[]): TaskEvent[] {
    const at = this.deps.clock.now();
    const events: TaskEvent[] = [];
    for (const d of plan) {
      const { outgoing } = d;
      if (outgoing.kind !== "execute") continue;
      const base = { taskId: outgoing.taskId, at, version: outgoing.version };
      if (d.to === "stream") {
        const event = this.reoffering.has(outgoing.taskId) ? "reoffered" : "offered";
        events.push({ ...base, event, pid: d.stream.id, replica: d.stream.replica, ...(d.pick && { detail: { ...d.pick } }) });
      } else if (d.to === "http") {
        events.push({ ...base, event: "offered", replica: this.deps.directory.replica, detail: { url: d.url } });
      } else {
        events.push({ ...base, event: "unrouted", replica: this.deps.directory.replica, detail: { why: d.why } });
      }
    }
    return events;
  }

  /** The other commit hook: after the commit, hands each message to its stream or URL. */
  deliverAll(plan: Delivery[]): void {
    const { metrics } = this.deps;
    for (const delivery of plan) {
      metrics?.message(delivery.outgoing.kind);
      // One undeliverable message must never take the dispatcher (or the process) down.
      try {
        this.deliver(delivery);
      } catch (error) {
        this.deps.logger.error({ err: error, ...fields(delivery.outgoing) }, "message dropped: delivery failed");
      }
    }
  }

  private deliver(delivery: Delivery): void {
    const { logger, metrics } = this.deps;
    const { outgoing } = delivery;
    if (outgoing.kind === "execute") this.claimed.forget(outgoing.taskId, outgoing.version);
    const reoffer = outgoing.kind === "execute" && this.reoffering.delete(outgoing.taskId);
    if (
      outgoing.kind === "execute" &&
      this.backlogging.delete(outgoing.taskId) &&
      (this.offers.get(outgoing.taskId)?.version === outgoing.version || this.forwarded.has(outgoing.taskId, outgoing.version, this.deps.clock.now()))
    ) {
      logger.debug({ ...fields(outgoing) }, "backlog offer skipped: the task was offered meanwhile");
      return;
    }
    switch (delivery.to) {
      case "nowhere":
        if (outgoing.kind === "execute") this.offers.forget(outgoing.taskId);
        metrics?.delivery("dropped");
        logger.debug({ ...fields(outgoing) }, delivery.why);
        return;
      case "http":
        this.deps.push(delivery.url, delivery.message);
        metrics?.delivery("http");
        return;
      case "stream": {
        const { stream } = delivery;
        // A stream of another replica got its message through the forward row already.
        const sent = stream.connection ? stream.connection.send(delivery.message, outgoing.kind === "execute" ? outgoing : undefined) : true;
        if (!sent) {
          if (outgoing.kind === "execute") this.offers.forget(outgoing.taskId);
          metrics?.delivery("dropped");
          logger.warn({ ...fields(outgoing), pid: stream.id }, "message dropped: stream closed or its buffer is full");
          return;
        }
        if (outgoing.kind === "execute") {
          this.offers.record(outgoing.taskId, outgoing.version, outgoing.address, stream, this.deps.clock.now());
        }
        metrics?.delivery(stream.connection ? "sent" : "forwarded");
        if (reoffer) metrics?.reoffered(stream.group);
        if (reoffer) logger.info({ ...fields(outgoing), pid: stream.id, replica: stream.replica }, "execute re-offered to another stream");
        else logger.debug({ ...fields(outgoing), pid: stream.id, replica: stream.replica }, "message sent");
      }
    }
  }

  /** Decides where one message goes; `planned` counts the executes this claim gave each stream so far. */
  private route(outgoing: Outgoing, planned: Map<string, number>): Delivery {
    const address = parseAddress(outgoing.address);
    if (!address) return { to: "nowhere", outgoing, why: "message dropped: invalid address" };
    if (address.scheme === "http") return { to: "http", outgoing, url: address.url, message: this.message(outgoing) };
    if (address.scheme !== "poll") return { to: "nowhere", outgoing, why: "message dropped: transport not supported by this server" };

    let streams = this.deps.directory.inGroup(address.group);
    let stream: StreamRef | undefined;
    const reoffer = outgoing.kind === "execute" && this.reoffering.has(outgoing.taskId);
    if (reoffer) {
      // A re-offer goes within the whole group, even for poll://any@group/pid (the preferred stream
      // had its chance), and never to a stream that had this execute already.
      const tried = this.offers.get(outgoing.taskId)?.tried ?? new Set<string>();
      streams = streams.filter((s) => !tried.has(streamKey(s)));
      stream = routeWithin(address, streams, (list) => this.leastLoaded(list, planned), { ignoreId: true });
      if (!stream) return { to: "nowhere", outgoing, why: "re-offer dropped: no other stream in the group (the retry timeout will send it again)" };
    } else {
      stream = routeWithin(address, streams, (list) => (outgoing.kind === "execute" ? this.leastLoaded(list, planned) : this.pickRandom(list)));
      if (!stream) return { to: "nowhere", outgoing, why: "message dropped: no open stream for the address" };
    }
    if (outgoing.kind !== "execute") return { to: "stream", outgoing, stream, message: this.serialise(outgoing) };
    const key = streamKey(stream);
    const pick: RoutePick = {
      held: this.leases.get(stream.id) ?? 0,
      offered: this.offers.pendingFor(stream) + (planned.get(key) ?? 0),
      candidates: streams.length,
      how: !reoffer && address.id !== undefined && stream.id === address.id ? "addressed" : "least-loaded",
    };
    planned.set(key, (planned.get(key) ?? 0) + 1);
    return { to: "stream", outgoing, stream, message: this.serialise(outgoing), pick };
  }

  /**
   * Sends unanswered offers again, each to a stream it has not been sent to, if the task is still
   * pending at the offered version. An offer with nowhere else to go is left to the retry timeout.
   */
  private reoffer(offers: Offer[]): void {
    const ids = offers.map((o) => o.taskId);
    for (const id of ids) this.reoffering.add(id);
    const forget = (id: string) => {
      this.reoffering.delete(id);
      this.offers.forget(id);
    };
    this.run("re-offer failed", (tx) => queueReoffers(tx, offers)).then(
      () => {
        // What was not pending any more (acquired, maybe through another replica) is answered.
        for (const id of ids) if (this.reoffering.has(id)) forget(id);
      },
      () => ids.forEach(forget),
    );
  }

  private scheduleBacklog(group: string): void {
    if (this.paused || this.stopped || this.backlogTimers.has(group)) return;
    const timer = setTimeout(() => {
      this.backlogTimers.delete(group);
      this.offerBacklog(group);
    }, BACKLOG_SETTLE_MS);
    timer.unref();
    this.backlogTimers.set(group, timer);
  }

  /**
   * Queues executes for the group's pending tasks, but no more than its streams have room for
   * (OFFERS_PER_STREAM unanswered offers each), so that a large backlog never overflows a stream's
   * buffer; the rest follows as workers acquire what they were offered.
   */
  private offerBacklog(group: string): void {
    if (this.paused || this.stopped) return;
    const streams = this.deps.directory.inGroup(group);
    const room = streams.reduce((sum, s) => sum + Math.max(0, OFFERS_PER_STREAM - this.offers.pendingFor(s)), 0);
    if (room === 0) return;
    const now = this.deps.clock.now();
    this.forwarded.sweep(now);
    this.claimed.sweep(now);
    const queuedIds: string[] = [];
    this.run("offering the backlog failed", (tx) => this.queueBacklog(tx, group, room, now, queuedIds)).then((outcome) => {
      for (const id of queuedIds) this.backlogging.delete(id);
      if (!outcome) return;
      if (outcome.more) this.backlogged.add(group);
      else this.backlogged.delete(group);
      if (outcome.queued > 0) {
        this.deps.logger.info({ group, tasks: outcome.queued, more: outcome.more }, "backlog of pending tasks offered to the group's streams");
      }
    });
  }

  /**
   * The backlog pass's transaction: queues executes for the group's pending tasks, at most `room`,
   * skipping those offered or on their way already; notes the tasks it queued in `queuedIds`.
   */
  private *queueBacklog(tx: Tx, group: string, room: number, now: number, queuedIds: string[]): Op<{ queued: number; more: boolean }> {
    let left = room;
    let queued = 0;
    let more = false;
    for (const task of yield* tx.pendingTasksForGroup(group, BACKLOG_BATCH)) {
      const until = delayedUntil(task.tags);
      const onItsWay = this.forwarded.has(task.id, task.version, now) || this.claimed.has(task.id, task.version, now);
      if ((until !== undefined && now < until) || this.offers.has(task.id) || onItsWay) continue;
      if (left === 0) {
        more = true;
        break;
      }
      yield* tx.enqueueExecute(task.id, task.version, task.target);
      this.backlogging.add(task.id);
      queuedIds.push(task.id);
      left--;
      queued++;
    }
    return { queued, more };
  }

  /**
   * Resolves once no drain is scheduled and none of the dispatcher's own jobs is running: a test
   * that resumed the dispatcher for a moment waits for everything that started meanwhile.
   */
  async idle(): Promise<void> {
    while (this.scheduled || this.running.size > 0) {
      if (this.running.size > 0) await Promise.allSettled([...this.running]);
      else await new Promise((resolve) => setImmediate(resolve));
    }
  }

  /** Runs one of the dispatcher's own jobs through the committer; a failure is logged, not thrown. */
  private run<T>(failure: string, job: (tx: Tx) => Op<T>): Promise<T | undefined> {
    if (!this.commits || this.stopped) return Promise.resolve(undefined);
    const running: Promise<T | undefined> = this.commits.submit(job).catch((error: unknown) => {
      this.deps.logger.error({ err: error }, failure);
      return undefined;
    });
    this.running.add(running);
    void running.finally(() => this.running.delete(running));
    return running;
  }

  /** The stream whose process has the fewest tasks in hand; ties are broken at random. */
  private leastLoaded(list: readonly StreamRef[], planned: Map<string, number>): StreamRef | undefined {
    let best: StreamRef[] = [];
    let bestLoad = Infinity;
    for (const stream of list) {
      const load = (this.leases.get(stream.id) ?? 0) + this.offers.pendingFor(stream) + (planned.get(streamKey(stream)) ?? 0);
      if (load < bestLoad) {
        bestLoad = load;
        best = [stream];
      } else if (load === bestLoad) {
        best.push(stream);
      }
    }
    return this.pickRandom(best);
  }

  private pickRandom(list: readonly StreamRef[]): StreamRef | undefined {
    const random = this.deps.random ?? Math.random;
    return list[Math.floor(random() * list.length)];
  }

  private message(outgoing: Outgoing): ExecuteMessage | UnblockMessage {
    return outgoing.kind === "execute"
      ? { kind: "execute", head: { serverUrl: this.deps.serverUrl }, data: { task: { id: outgoing.taskId, version: outgoing.version } } }
      : { kind: "unblock", head: {}, data: { promise: outgoing.promise } };
  }

  private serialise(outgoing: Outgoing): string {
    return JSON.stringify(this.message(outgoing));
  }
}

/** Log fields of a message. */
export function fields(outgoing: Outgoing): Record<string, unknown> {
  return outgoing.kind === "execute"
    ? { kind: "execute", task: outgoing.taskId, version: outgoing.version, address: outgoing.address }
    : { kind: "unblock", promise: outgoing.promise.id, address: outgoing.address };
}

// The dispatcher's jobs, declared once rather than as a generator closure per run (see store/op.ts).

/** An empty job: its commit hook claims what waits in the outbox. */
// eslint-disable-next-line require-yield
function* nothing(): Op<void> {}

/** Queues the execute of each offer again whose task is still pending at the offered version. */
function* queueReoffers(tx: Tx, offers: Offer[]): Op<void> {
  for (const offer of offers) {
    const task = yield* tx.getTask(offer.taskId);
    if (task?.state === "pending" && task.version === offer.version) {
      yield* tx.enqueueExecute(offer.taskId, offer.version, offer.address);
    }
  }
}

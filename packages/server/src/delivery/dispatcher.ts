import type { ExecuteMessage, Message, UnblockMessage } from "@resonate-compat/protocol";
import { parseAddress } from "@resonate-compat/protocol";
import type { Logger } from "pino";
import type { Clock } from "../clock";
import { delayedUntil } from "../domain/create";
import type { Outgoing, Store, Tx } from "../store/store";
import type { PollConnection } from "./connection";
import { type Offer, Offers } from "./offers";
import type { PollRegistry } from "./registry";

const CLAIM_BATCH = 100;
/** How many pending tasks a newly connected worker is offered at once. */
const BACKLOG_BATCH = 1000;
/** Unanswered backlog offers one stream may have at a time (well below its buffer). */
const OFFERS_PER_STREAM = 32;
/** How long after a stream opens its group's backlog is offered. */
const BACKLOG_SETTLE_MS = 200;

export interface DispatcherDeps {
  store: Store;
  registry: PollRegistry;
  clock: Clock;
  logger: Logger;
  /** head.serverUrl of execute messages. */
  readonly serverUrl: string;
  /** An execute not acquired within this many ms is offered to another stream of the group (0 = never). */
  reofferAfter: number;
  /** Sends a message to an http(s) address; failures are only logged (spec §7.4). */
  push: (url: string, message: Message) => void;
  random?: () => number;
}

/**
 * Drains the outbox: claims queued messages in one transaction (deleting them), then hands each to
 * its address. Delivery is at most once; a lost execute is recovered by the task's retry timeout
 * (and sooner by a re-offer), a lost unblock by the SDK's periodic listener refresh (spec §7.2).
 *
 * Within a group, an execute goes to the stream whose process has the fewest tasks in hand: leases
 * it holds plus executes offered to it and not yet acquired. The reference picks at random.
 */
export class Dispatcher {
  private readonly offers = new Offers();
  private scheduled = false;
  private paused = false;
  private stopped = false;
  private reofferTimer: NodeJS.Timeout | undefined;
  private readonly backlogTimers = new Map<string, NodeJS.Timeout>();
  /** Groups whose backlog was larger than their streams had room for. */
  private readonly backlogged = new Set<string>();
  /** Leases per process as of the last claim; offers made since are counted by `offers`. */
  private leases = new Map<string, number>();

  constructor(private readonly deps: DispatcherDeps) {}

  /** Asks for a drain soon; many kicks in one turn of the event loop make one drain. */
  kick(): void {
    if (this.scheduled || this.paused || this.stopped) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.drain();
    });
  }

  /** A task was acquired: its offer is answered, and its stream has room for more backlog. */
  acquired(taskId: string): void {
    const offer = this.offers.forget(taskId);
    if (offer && this.backlogged.has(offer.connection.group)) this.scheduleBacklog(offer.connection.group);
  }

  /**
   * A stream opened: hand its group the backlog of pending tasks nobody is being offered, instead
   * of leaving them to the retry timeout. Waits a moment first, so that when many workers connect
   * together (a server restart) the backlog spreads over all of them.
   */
  connected(connection: PollConnection): void {
    this.scheduleBacklog(connection.group);
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
    const streams = this.deps.registry.inGroup(group);
    let room = streams.reduce((sum, c) => sum + Math.max(0, OFFERS_PER_STREAM - this.offers.pendingFor(c)), 0);
    if (room === 0) return;
    const now = this.deps.clock.now();
    let more = false;
    const queued = this.deps.store.transact((tx) => {
      let count = 0;
      for (const task of tx.pendingTasksForGroup(group, BACKLOG_BATCH)) {
        const until = delayedUntil(task.tags);
        if ((until !== undefined && now < until) || this.offers.has(task.id)) continue;
        if (room === 0) {
          more = true;
          break;
        }
        tx.enqueueExecute(task.id, task.version, task.target);
        room--;
        count++;
      }
      return count;
    });
    if (more) this.backlogged.add(group);
    else this.backlogged.delete(group);
    if (queued > 0) {
      this.deps.logger.info({ group, tasks: queued, more }, "backlog of pending tasks offered to the group's streams");
      this.kick();
    }
  }

  /** A stream closed: what was offered to it and not acquired goes to another stream now. */
  disconnected(connection: PollConnection): void {
    const orphans = this.offers.forConnection(connection);
    if (orphans.length > 0 && !this.stopped) this.reoffer(orphans);
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
      this.reoffer(this.offers.stale(this.deps.clock.now() - reofferAfter));
    }, Math.max(50, Math.floor(reofferAfter / 2)));
    this.reofferTimer.unref();
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.reofferTimer);
    for (const timer of this.backlogTimers.values()) clearTimeout(timer);
  }

  /** Claims and sends what is queued (a full claim kicks the next drain). */
  drain(): void {
    if (this.paused || this.stopped) return;
    let batch: Outgoing[];
    try {
      batch = this.deps.store.transact((tx) => this.claim(tx));
    } catch (error) {
      this.deps.logger.error({ err: error }, "claiming outgoing messages failed");
      return;
    }
    this.deliverAll(batch);
  }

  /**
   * Claims queued messages inside the caller's transaction (the request batch that queued them), so
   * that they leave right after its commit without a transaction of their own. A full claim asks
   * for a drain of the rest.
   */
  claim(tx: Tx): Outgoing[] {
    if (this.paused || this.stopped) return [];
    const batch = tx.claimOutgoing(CLAIM_BATCH);
    // Lease counts are only needed to route executes: not worth a query when nothing was queued.
    if (batch.length > 0) this.leases = tx.leaseCounts();
    if (batch.length >= CLAIM_BATCH) this.kick();
    return batch;
  }

  /** Hands claimed messages to their addresses; each stream's events of this pass leave in one write. */
  deliverAll(batch: Outgoing[]): void {
    for (const outgoing of batch) {
      // One undeliverable message must never take the dispatcher (or the process) down.
      try {
        this.deliver(outgoing);
      } catch (error) {
        this.deps.logger.error({ err: error, address: outgoing.address, kind: outgoing.kind }, "message dropped: delivery failed");
      }
    }
  }

  /**
   * Sends unanswered offers again, each to a stream it has not been sent to, if the task is still
   * pending at the offered version. An offer with nowhere else to go is left to the retry timeout.
   */
  private reoffer(offers: Offer[]): void {
    const live = this.deps.store.transact((tx) =>
      offers.filter((offer) => {
        const task = tx.getTask(offer.taskId);
        return task?.state === "pending" && task.version === offer.version;
      }),
    );
    const liveIds = new Set(live.map((o) => o.taskId));
    for (const offer of offers) if (!liveIds.has(offer.taskId)) this.offers.forget(offer.taskId);
    for (const offer of live) {
      try {
        this.reofferOne(offer);
      } catch (error) {
        this.deps.logger.error({ err: error, task: offer.taskId }, "re-offer failed");
        this.offers.forget(offer.taskId);
      }
    }
  }

  private reofferOne(offer: Offer): void {
    const address = parseAddress(offer.address);
    if (address?.scheme !== "poll") return;
    // Within the whole group, even for poll://any@group/pid: the preferred stream had its chance.
    const connection = this.deps.registry.route({ ...address, id: undefined }, (list) =>
      this.leastLoaded(list.filter((c) => !offer.tried.has(c))),
    );
    if (!connection) {
      this.offers.forget(offer.taskId);
      return;
    }
    const sent = this.sendExecute(connection, offer.taskId, offer.version, offer.address, offer);
    this.deps.logger.info({ task: offer.taskId, version: offer.version, pid: connection.id, sent }, "execute re-offered to another stream");
  }

  private deliver(outgoing: Outgoing): void {
    const { logger } = this.deps;
    const address = parseAddress(outgoing.address);
    const fields = outgoing.kind === "execute"
      ? { kind: "execute", task: outgoing.taskId, version: outgoing.version, address: outgoing.address }
      : { kind: "unblock", promise: outgoing.promise.id, address: outgoing.address };
    if (!address) {
      logger.warn(fields, "message dropped: invalid address");
      return;
    }
    switch (address.scheme) {
      case "poll": {
        const connection = this.deps.registry.route(address, (list) => this.leastLoaded(list));
        if (!connection) {
          logger.debug(fields, "message dropped: no open stream for the address");
          return;
        }
        const sent = outgoing.kind === "execute"
          ? this.sendExecute(connection, outgoing.taskId, outgoing.version, outgoing.address)
          : connection.send(JSON.stringify(this.unblockMessage(outgoing)));
        if (sent) logger.debug({ ...fields, pid: connection.id }, "message sent");
        else logger.warn({ ...fields, pid: connection.id }, "message dropped: stream closed or its buffer is full");
        return;
      }
      case "http":
        this.deps.push(address.url, outgoing.kind === "execute"
          ? this.executeMessage(outgoing.taskId, outgoing.version)
          : this.unblockMessage(outgoing));
        return;
      case "unsupported":
        logger.warn(fields, "message dropped: transport not supported by this server");
    }
  }

  private sendExecute(connection: PollConnection, taskId: string, version: number, address: string, previous?: Offer): boolean {
    const sent = connection.send(JSON.stringify(this.executeMessage(taskId, version)));
    if (sent) this.offers.record({ taskId, version, address, connection, sentAt: this.deps.clock.now() }, previous);
    return sent;
  }

  /** The stream whose process has the fewest tasks in hand; ties are broken at random. */
  private leastLoaded(list: PollConnection[]): PollConnection | undefined {
    let best: PollConnection[] = [];
    let bestLoad = Infinity;
    for (const connection of list) {
      const load = (this.leases.get(connection.id) ?? 0) + this.offers.pendingFor(connection);
      if (load < bestLoad) {
        bestLoad = load;
        best = [connection];
      } else if (load === bestLoad) {
        best.push(connection);
      }
    }
    const random = this.deps.random ?? Math.random;
    return best[Math.floor(random() * best.length)];
  }

  private executeMessage(taskId: string, version: number): ExecuteMessage {
    return { kind: "execute", head: { serverUrl: this.deps.serverUrl }, data: { task: { id: taskId, version } } };
  }

  private unblockMessage(outgoing: Extract<Outgoing, { kind: "unblock" }>): UnblockMessage {
    return { kind: "unblock", head: {}, data: { promise: outgoing.promise } };
  }
}

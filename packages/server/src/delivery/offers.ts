import type { PollConnection } from "./connection";

/** An execute sent to a stream whose worker has not acquired the task yet. */
export interface Offer {
  taskId: string;
  version: number;
  /** The address the execute was queued for; a re-offer is routed within it again. */
  address: string;
  connection: PollConnection;
  sentAt: number;
  /** Streams that got this execute already: a re-offer goes elsewhere. */
  tried: Set<PollConnection>;
}

/**
 * The executes in flight between the server and workers. A worker that was offered a task and has
 * not acquired it yet counts as busy with it (so a burst spreads instead of piling onto one
 * stream), and an offer left unanswered for too long is re-offered to another stream.
 */
export class Offers {
  private readonly byTask = new Map<string, Offer>();
  private readonly perConnection = new Map<PollConnection, number>();

  record(offer: Omit<Offer, "tried">, previous?: Offer): void {
    this.forget(offer.taskId);
    const tried = new Set(previous?.tried ?? []);
    tried.add(offer.connection);
    this.byTask.set(offer.taskId, { ...offer, tried });
    this.perConnection.set(offer.connection, (this.perConnection.get(offer.connection) ?? 0) + 1);
  }

  forget(taskId: string): Offer | undefined {
    const offer = this.byTask.get(taskId);
    if (!offer) return undefined;
    this.byTask.delete(taskId);
    const count = (this.perConnection.get(offer.connection) ?? 1) - 1;
    if (count > 0) this.perConnection.set(offer.connection, count);
    else this.perConnection.delete(offer.connection);
    return offer;
  }

  has(taskId: string): boolean {
    return this.byTask.has(taskId);
  }

  /** The offers made to one stream. */
  forConnection(connection: PollConnection): Offer[] {
    return [...this.byTask.values()].filter((o) => o.connection === connection);
  }

  pendingFor(connection: PollConnection): number {
    return this.perConnection.get(connection) ?? 0;
  }

  /** Offers sent at or before `before`. */
  stale(before: number): Offer[] {
    return [...this.byTask.values()].filter((o) => o.sentAt <= before);
  }

  get size(): number {
    return this.byTask.size;
  }
}

import { type StreamRef, streamKey } from "./streams";

/** An execute sent to a stream whose worker has not acquired the task yet. */
export interface Offer {
  taskId: string;
  version: number;
  /** The address the execute was queued for; a re-offer is routed within it again. */
  address: string;
  stream: StreamRef;
  sentAt: number;
  /** Streams (keys) that got this execute already: a re-offer goes elsewhere. */
  tried: Set<string>;
}

/**
 * The executes in flight between this server and workers (wherever their streams are held). A
 * worker that was offered a task and has not acquired it yet counts as busy with it (so a burst
 * spreads instead of piling onto one stream), and an offer left unanswered for too long is
 * re-offered to another stream.
 */
export class Offers {
  private readonly byTask = new Map<string, Offer>();
  private readonly perStream = new Map<string, number>();

  /** Records that `stream` was sent the task's execute (after earlier offers of it, if any). */
  record(taskId: string, version: number, address: string, stream: StreamRef, sentAt: number): void {
    const previous = this.forget(taskId);
    const tried = new Set(previous?.version === version ? previous.tried : []);
    const key = streamKey(stream);
    tried.add(key);
    this.byTask.set(taskId, { taskId, version, address, stream, sentAt, tried });
    this.perStream.set(key, (this.perStream.get(key) ?? 0) + 1);
  }

  forget(taskId: string): Offer | undefined {
    const offer = this.byTask.get(taskId);
    if (!offer) return undefined;
    this.byTask.delete(taskId);
    const key = streamKey(offer.stream);
    const count = (this.perStream.get(key) ?? 1) - 1;
    if (count > 0) this.perStream.set(key, count);
    else this.perStream.delete(key);
    return offer;
  }

  get(taskId: string): Offer | undefined {
    return this.byTask.get(taskId);
  }

  has(taskId: string): boolean {
    return this.byTask.has(taskId);
  }

  /** The offers made to one stream. */
  forStream(stream: StreamRef): Offer[] {
    const key = streamKey(stream);
    return [...this.byTask.values()].filter((o) => streamKey(o.stream) === key);
  }

  pendingFor(stream: StreamRef): number {
    return this.perStream.get(streamKey(stream)) ?? 0;
  }

  /** Offers sent at or before `before`. */
  stale(before: number): Offer[] {
    return [...this.byTask.values()].filter((o) => o.sentAt <= before);
  }

  get size(): number {
    return this.byTask.size;
  }
}

import type { PromiseRecord } from "@resonate-compat/protocol";
import { type Clock, sleep, type Timer } from "./clock";
import { PromiseNotFoundError, ResonateError, ResonateStoppedError, ResonateUnreachableError } from "./errors";
import { type HttpClient, messageOf } from "./http-client";
import { errorText, type Logger } from "./logger";

// Waiting for promises to settle. A wait registers a listener with this process's unicast address
// (poll://uni@{group}/{pid}); the server answers with the promise and, if it is still pending,
// later pushes one `unblock` message to our poll stream. Unblocks are delivered at most once, so a
// wait is made robust the same way as in the official SDK: every outstanding listener is registered
// again periodically (and, here, also whenever the poll stream reopens, since whatever was sent
// while it was down is gone); an answer that is already settled resolves the wait.

interface Wait {
  promise: Promise<PromiseRecord>;
  resolve: (record: PromiseRecord) => void;
  reject: (err: Error) => void;
}

export interface ListenersOptions {
  http: Pick<HttpClient, "send">;
  /** Our unicast address. */
  address: string;
  clock: Clock;
  logger: Logger;
  /** Re-register every outstanding listener this often (official SDK: 60 s). */
  refreshInterval: number;
  /** Pause before trying again when a registration got no protocol answer (official SDK: 5 s). */
  retryDelay: number;
}

export class Listeners {
  private readonly waits = new Map<string, Wait>();
  private readonly registering = new Set<string>();
  private refreshTimer: Timer | undefined;
  /** Aborted by stop(): ends registration loops and their pauses. */
  private readonly stopping = new AbortController();

  constructor(private readonly options: ListenersOptions) {}

  /** Resolves with the settled record of `id`; rejects if the server says no (e.g. 404) or on stop(). */
  wait(id: string): Promise<PromiseRecord> {
    if (this.stopping.signal.aborted) return Promise.reject(new ResonateStoppedError(id));
    const existing = this.waits.get(id);
    if (existing) return existing.promise;
    const wait = deferred();
    this.waits.set(id, wait);
    this.refreshTimer ??= this.options.clock.setInterval(() => this.refreshAll(), this.options.refreshInterval);
    void this.register(id);
    return wait.promise;
  }

  /** An unblock arrived from the poll stream. */
  onUnblock(record: PromiseRecord): void {
    if (record.state !== "pending") this.settle(record.id, (w) => w.resolve(record));
  }

  /** Registers every outstanding listener again. */
  refreshAll(): void {
    for (const waiting of this.waits.keys()) void this.register(waiting);
  }

  get size(): number {
    return this.waits.size;
  }

  /** Rejects every outstanding wait with ResonateStoppedError and stops refreshing. */
  stop(): void {
    this.stopping.abort();
    this.refreshTimer?.cancel();
    this.refreshTimer = undefined;
    for (const waiting of [...this.waits.keys()]) this.settle(waiting, (w) => w.reject(new ResonateStoppedError(waiting)));
  }

  private async register(awaited: string): Promise<void> {
    // One registration per id at a time: a refresh while one is in flight adds nothing.
    if (this.registering.has(awaited)) return;
    this.registering.add(awaited);
    try {
      while (this.waits.has(awaited) && !this.stopping.signal.aborted) {
        let answer;
        try {
          answer = await this.options.http.send("promise.register_listener", { awaited, address: this.options.address });
        } catch (err) {
          if (!(err instanceof ResonateUnreachableError)) throw err;
          if (this.stopping.signal.aborted || !this.waits.has(awaited)) return;
          // The server may come back and the promise may still settle: keep waiting, like the official SDK.
          this.options.logger.warn({ id: awaited, error: errorText(err), retryIn: this.options.retryDelay }, "listener registration failed");
          await sleep(this.options.clock, this.options.retryDelay, this.stopping.signal);
          continue;
        }
        if (answer.status === 200 && typeof answer.data === "object") {
          const record = answer.data.promise;
          if (record.state !== "pending") this.settle(awaited, (w) => w.resolve(record));
          return;
        }
        const message = messageOf(answer.data);
        const err = answer.status === 404
          ? new PromiseNotFoundError(awaited, message)
          : new ResonateError("promise.register_listener", answer.status, message);
        this.settle(awaited, (w) => w.reject(err));
        return;
      }
    } catch (err) {
      this.settle(awaited, (w) => w.reject(err instanceof Error ? err : new Error(String(err))));
    } finally {
      this.registering.delete(awaited);
    }
  }

  private settle(waiting: string, how: (w: Wait) => void): void {
    const wait = this.waits.get(waiting);
    if (!wait) return;
    this.waits.delete(waiting);
    how(wait);
    if (this.waits.size === 0) {
      this.refreshTimer?.cancel();
      this.refreshTimer = undefined;
    }
  }
}

function deferred(): Wait {
  let resolve!: (record: PromiseRecord) => void;
  let reject!: (err: Error) => void;
  const promise = new Promise<PromiseRecord>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // A wait nobody awaits any more (e.g. rejected by stop()) must not crash the process.
  promise.catch(() => {});
  return { promise, resolve, reject };
}

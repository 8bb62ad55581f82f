import type { PromiseRecord } from "@resonate-compat/protocol";
import { decode } from "./codec";
import { PromiseCanceledError, PromiseRejectedError, PromiseTimedOutError } from "./errors";
import type { HttpClient } from "./http-client";
import type { Listeners } from "./listeners";

/** A durable promise on the server, seen from this process. */
export interface Handle<T = unknown> {
  readonly id: string;
  /** Waits until the promise settles: its value, or a throw (the function's Error, or a timed-out / canceled error). */
  result(): Promise<T>;
  /** Whether the promise has settled (one promise.get; does not wait). */
  done(): Promise<boolean>;
}

export class PromiseHandle<T> implements Handle<T> {
  readonly id: string;

  constructor(
    private record: PromiseRecord,
    private readonly listeners: Pick<Listeners, "wait">,
    private readonly http: Pick<HttpClient, "ok">,
  ) {
    this.id = record.id;
  }

  async result(): Promise<T> {
    if (this.record.state === "pending") this.record = await this.listeners.wait(this.id);
    return outcome<T>(this.record);
  }

  async done(): Promise<boolean> {
    if (this.record.state === "pending") this.record = (await this.http.ok("promise.get", { id: this.id })).promise;
    return this.record.state !== "pending";
  }
}

/** The value of a settled promise, or the error it stands for. */
export function outcome<T>(record: PromiseRecord): T {
  switch (record.state) {
    case "resolved":
      return decode(record.value) as T;
    case "rejected": {
      const reason = decode(record.value);
      throw reason instanceof Error ? reason : new PromiseRejectedError(record.id, reason);
    }
    case "rejected_canceled":
      throw new PromiseCanceledError(record.id);
    case "rejected_timedout":
      throw new PromiseTimedOutError(record.id);
    case "pending":
      throw new Error(`Promise "${record.id}" is still pending`);
  }
}

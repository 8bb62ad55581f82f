import { type Message, parseMessage } from "@resonate-compat/protocol";
import { EventSource } from "eventsource";
import { Backoff } from "./backoff";
import type { Clock, Timer } from "./clock";
import type { Logger } from "./logger";


// The SSE stream GET {url}/poll/{group}/{pid} over which the server pushes execute and unblock
// messages to this process (spec §2.8). The `eventsource` package parses the stream; we own the
// reconnect policy: on any error we close and reopen after an exponential back-off (1 s doubling to
// 30 s, reset after a successful open), as the official SDK does. Messages sent while we were
// disconnected are lost by design; the server re-dispatches tasks and the SDK re-registers listeners.

export interface PollConnectionOptions {
  /** The server's base url, e.g. http://127.0.0.1:8001 */
  url: string;
  group: string;
  pid: string;
  token?: string | undefined;
  clock: Clock;
  logger: Logger;
  onMessage: (message: Message) => void;
  /** Called after every successful (re)open; `reconnected` is false for the first one. */
  onOpen?: (reconnected: boolean) => void;
  backoff?: { initial: number; max: number };
}

export class PollConnection {
  readonly pollUrl: string;
  private source: EventSource | undefined;
  private reconnectTimer: Timer | undefined;
  private readonly backoff: Backoff;
  private openedOnce = false;
  private closed = false;
  private readonly opened: Promise<void>;
  private markOpened!: () => void;

  constructor(private readonly options: PollConnectionOptions) {
    const base = options.url.replace(/\/+$/, "");
    this.pollUrl = `${base}/poll/${encodeURIComponent(options.group)}/${encodeURIComponent(options.pid)}`;
    this.backoff = new Backoff(options.backoff ?? { initial: 1_000, max: 30_000 });
    this.opened = new Promise((resolve) => (this.markOpened = resolve));
  }

  start(): void {
    if (this.closed || this.source) return;
    this.connect();
  }

  /** Resolves once the stream has been open at least once (never, if it never opens: race it with a deadline). */
  whenOpen(): Promise<void> {
    return this.opened;
  }

  get isOpen(): boolean {
    return this.source?.readyState === EventSource.OPEN;
  }

  close(): void {
    this.closed = true;
    this.reconnectTimer?.cancel();
    this.reconnectTimer = undefined;
    this.source?.close();
    this.source = undefined;
  }

  private connect(): void {
    const { logger, token } = this.options;
    const source = new EventSource(this.pollUrl, {
      // The only way to add a header (the bearer token) with the eventsource package.
      fetch: (input, init) => fetch(input, token === undefined ? init : { ...init, headers: { ...init.headers, Authorization: `Bearer ${token}` } }),
    });
    this.source = source;

    source.onopen = () => {
      const reconnected = this.openedOnce;
      logger.info({ url: this.pollUrl, attempts: this.backoff.attempts }, reconnected ? "poll stream reopened" : "poll stream open");
      this.backoff.reset();
      this.openedOnce = true;
      this.markOpened();
      this.options.onOpen?.(reconnected);
    };
    source.onmessage = (event) => {
      const message = parseMessage(String(event.data));
      if (!message) {
        logger.warn({ url: this.pollUrl, raw: String(event.data).slice(0, 200) }, "dropping malformed message");
        return;
      }
      this.options.onMessage(message);
    };
    source.onerror = (event) => {
      // The package would retry on its own after a dropped stream but gives up on a non-200; we close
      // in both cases and retry on our own schedule so that every failure backs off the same way.
      source.close();
      // eventsource 3.0.7 arms its own reconnect timer right *after* this handler returns, which would
      // keep the process alive for 3 s after stop(); closing again once the handler is done clears it.
      queueMicrotask(() => source.close());
      if (this.closed || this.source !== source) return;
      this.source = undefined;
      const delay = this.backoff.next();
      logger.warn({ url: this.pollUrl, delay, attempt: this.backoff.attempts, reason: event.message ?? "stream error" }, "poll stream lost, reconnecting");
      this.reconnectTimer = this.options.clock.setTimeout(() => {
        this.reconnectTimer = undefined;
        if (!this.closed) this.connect();
      }, delay);
    };
  }
}

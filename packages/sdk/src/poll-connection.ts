import { type ClientRequest, type IncomingMessage, request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { type Message, parseMessage } from "@resonate-compat/protocol";
import { createParser } from "eventsource-parser";
import { Backoff } from "./backoff";
import type { Clock, Timer } from "./clock";
import type { Logger } from "./logger";

// The SSE stream GET {url}/poll/{group}/{pid} over which the server pushes execute and unblock
// messages to this process (spec §2.8): one long GET over node:http(s), its bytes fed to
// `eventsource-parser`. (The `eventsource` package ran every message through fetch and web streams,
// several times the CPU per message, and needed work-arounds for its own reconnect timer; we never used
// its reconnects.) We own the reconnect policy: on any error or end of the stream we reopen after an
// exponential back-off (1 s doubling to 30 s, reset after a successful open), as the official SDK
// does. Messages sent while we were disconnected are lost by design; the server re-dispatches tasks
// and the SDK re-registers listeners.

/**
 * Where this process's pushed messages come from: this SSE stream, or the channel's poll side
 * (channel-transport.ts). What Resonate needs of either.
 */
export interface MessageStream {
  /** Opens it and keeps it open, reopening it after a back-off whenever it is lost, until close(). */
  start(): void;
  /** Resolves once it has been open at least once (never, if it never opens: race it with a deadline). */
  whenOpen(): Promise<void>;
  readonly isOpen: boolean;
  /** No message is delivered after this. Idempotent. */
  close(): void;
}

/** Also the options of the channel's poll side. */
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

export class PollConnection implements MessageStream {
  readonly pollUrl: string;
  /** The GET of the current attempt, from connect until it fails or close(). */
  private request: ClientRequest | undefined;
  private open = false;
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
    if (this.closed || this.request) return;
    this.connect();
  }

  /** Resolves once the stream has been open at least once (never, if it never opens: race it with a deadline). */
  whenOpen(): Promise<void> {
    return this.opened;
  }

  get isOpen(): boolean {
    return this.open;
  }

  close(): void {
    this.closed = true;
    this.reconnectTimer?.cancel();
    this.reconnectTimer = undefined;
    this.open = false;
    this.request?.destroy();
    this.request = undefined;
  }

  private connect(): void {
    const { token } = this.options;
    const send = this.pollUrl.startsWith("https:") ? httpsRequest : httpRequest;
    const req = send(this.pollUrl, {
      // A socket of its own: the stream holds it for hours, it must not sit in a pool.
      agent: false,
      headers: {
        Accept: "text/event-stream",
        "Cache-Control": "no-cache",
        ...(token === undefined ? {} : { Authorization: `Bearer ${token}` }),
      },
    });
    this.request = req;
    req.on("response", (res) => this.opening(req, res));
    // Stays attached for the request's life: errors after destroy() land here and are ignored.
    req.on("error", (err) => this.lost(req, err.message));
    req.end();
  }

  private opening(req: ClientRequest, res: IncomingMessage): void {
    const type = res.headers["content-type"] ?? "";
    if (res.statusCode !== 200 || !type.includes("text/event-stream")) {
      res.resume();
      this.lost(req, res.statusCode !== 200 ? `HTTP ${res.statusCode}` : `not an event stream (Content-Type "${type}"): is this url a Resonate server?`);
      return;
    }
    const { logger } = this.options;
    const parser = createParser({
      onEvent: (event) => {
        // As an EventSource's onmessage: unnamed events (and ones named "message") only.
        if (event.event === undefined || event.event === "message") this.deliver(event.data);
      },
    });
    res.setEncoding("utf8");
    res.on("data", (chunk: string) => parser.feed(chunk));
    res.on("error", (err) => this.lost(req, err.message));
    res.on("close", () => this.lost(req, "the server ended the stream"));

    const reconnected = this.openedOnce;
    logger.info({ url: this.pollUrl, attempts: this.backoff.attempts }, reconnected ? "poll stream reopened" : "poll stream open");
    this.open = true;
    this.backoff.reset();
    this.openedOnce = true;
    this.markOpened();
    this.options.onOpen?.(reconnected);
  }

  private deliver(data: string): void {
    deliverMessage(data, this.pollUrl, this.options);
  }

  /** The attempt `req` failed or its stream ended: unless it is stale or we are closed, retry after a back-off. */
  private lost(req: ClientRequest, reason: string): void {
    if (this.closed || this.request !== req) return;
    req.destroy();
    this.request = undefined;
    this.open = false;
    const delay = this.backoff.next();
    this.options.logger.warn({ url: this.pollUrl, delay, attempt: this.backoff.attempts, reason }, "poll stream lost, reconnecting");
    this.reconnectTimer = this.options.clock.setTimeout(() => {
      this.reconnectTimer = undefined;
      if (!this.closed) this.connect();
    }, delay);
  }
}

/**
 * Parses one pushed message (an SSE event's data, a channel item) and hands it to `onMessage`. A
 * malformed message is dropped with a warning; a throwing handler is logged: neither may take the
 * stream down nor escape as an uncaught exception.
 */
export function deliverMessage(data: string, url: string, options: Pick<PollConnectionOptions, "logger" | "onMessage">): void {
  const message = parseMessage(data);
  if (!message) {
    options.logger.warn({ url, raw: data.slice(0, 200) }, "dropping malformed message");
    return;
  }
  try {
    options.onMessage(message);
  } catch (err) {
    options.logger.error({ url, kind: message.kind, err }, "message handler failed");
  }
}

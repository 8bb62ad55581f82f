import type { OutgoingHttpHeaders } from "node:http";
import type { PromiseRecord, TaskRecord } from "@resonate-compat/protocol";
import { CHANNEL_ACQUIRED, CHANNEL_ANSWER, CHANNEL_MESSAGE, CHANNEL_SUBPROTOCOL, channelPath, eagerQuery, FrameBatcher, frameItems, MAX_FRAME_BYTES, type SlotsReport, slotsItem } from "@resonate-compat/protocol/channel";
import WebSocket, { type RawData } from "ws";
import { Backoff } from "./backoff";
import type { Timer } from "./clock";
import { type PostAnswer, RequestTimeoutError, type Transport, TransportClosedError } from "./http-transport";
import { errorText } from "./logger";
import { deliverMessage, type MessageStream, type PollConnectionOptions } from "./poll-connection";

// The channel (protocol/src/channel.ts): one WebSocket to our server, GET /ws/<group>/<pid>, that
// carries this process's request envelopes, their answers and its poll messages. It replaces both
// the pool of HTTP connections (as HttpClient's Transport) and the SSE stream (as `messages`): one
// socket, and one write per event-loop turn for all the requests of that turn (FrameBatcher).
//
// The socket is (re)opened like the SSE stream: after a back-off (1 s doubling to 30 s, reset after
// an open) whenever it is lost. Requests wait while it is not open, within their timeout, and leave
// when it opens. A request sent on a socket that is lost before its answer came fails with a plain
// Error, as a dropped HTTP connection does, so HttpClient retries it.
//
// With `eager`, the channel asks the server to acquire tasks for this process while it has room
// (protocol/src/channel.ts): such a task arrives as the answer of an acquire this process did not
// send, and goes to `onAcquired` instead of an execute to `onMessage`. The room is this process's
// free slots: in the query when the socket opens, then in an "s" item at the end of a turn in which
// they changed enough (slotsChanged(), report()), in the same frame as the requests of that turn.

/** Eager acquire: the lease ttl to ask for, the free slots now, and who runs what is acquired. */
export interface ChannelEagerAcquire {
  ttl: number;
  free: () => number;
  onAcquired: (acquired: { task: TaskRecord; promise: PromiseRecord }) => void;
}

interface Pending {
  body: string;
  /** Handed to the socket (maybe still in the batcher): its answer can only come on that socket. */
  sent: boolean;
  resolve: (answer: PostAnswer) => void;
  fail: (err: Error) => void;
}

export class ChannelTransport implements Transport {
  readonly channelUrl: string;
  /** The poll side, for Resonate: its close() ends the messages, not the socket (see MessageView). */
  readonly messages: MessageStream = new MessageView(this);
  /** The socket of the current attempt, from connect until it is lost or close(). */
  private ws: WebSocket | undefined;
  /** The items for `ws`; a new one per socket, so nothing meant for a lost socket reaches the next. */
  private batcher: FrameBatcher | undefined;
  private open = false;
  /** Requests without their answer yet, by corrId, in the order they were posted. */
  private readonly pending = new Map<string, Pending>();
  private reconnectTimer: Timer | undefined;
  private readonly backoff: Backoff;
  private openedOnce = false;
  private messagesStopped = false;
  private closed = false;
  private readonly opened: Promise<void>;
  private markOpened!: () => void;
  /** Acquired tasks ("t" items) read on the current socket. */
  private seen = 0;
  /** The room the server knows of on the current socket (the query's, then the last report). */
  private reported: SlotsReport | undefined;
  private reportDue = false;

  constructor(
    private readonly options: PollConnectionOptions,
    private readonly eager?: ChannelEagerAcquire,
  ) {
    const target = new URL(channelPath(options.group, options.pid), options.url);
    target.protocol = target.protocol === "https:" ? "wss:" : "ws:";
    this.channelUrl = target.href;
    this.backoff = new Backoff(options.backoff ?? { initial: 1_000, max: 30_000 });
    this.opened = new Promise((resolve) => (this.markOpened = resolve));
  }

  start(): void {
    if (this.closed || this.ws || this.reconnectTimer) return;
    this.connect();
  }

  whenOpen(): Promise<void> {
    return this.opened;
  }

  get isOpen(): boolean {
    return this.open;
  }

  /**
   * Sends one request envelope (`body`, whose head.corrId is `corrId`) and resolves with its answer
   * as POST / would have given it. `headers` are not needed: the token went with the upgrade and is
   * in head.auth. Rejects with a RequestTimeoutError after `timeoutMs` (time waiting for the socket
   * included), a TransportClosedError after close(), or an Error when the socket is lost first.
   */
  post(body: string, _headers: OutgoingHttpHeaders, timeoutMs: number, corrId: string): Promise<PostAnswer> {
    if (this.closed) return Promise.reject(new TransportClosedError());
    return new Promise<PostAnswer>((resolve, reject) => {
      const settle = (): void => {
        clearTimeout(timer);
        this.pending.delete(corrId);
      };
      const request: Pending = {
        body,
        sent: false,
        resolve: (answer) => (settle(), resolve(answer)),
        fail: (err) => (settle(), reject(err)),
      };
      const timer = setTimeout(() => request.fail(new RequestTimeoutError(timeoutMs)), timeoutMs);
      this.pending.set(corrId, request);
      if (this.open) this.send(request);
    });
  }

  /** Fails every request with a TransportClosedError, closes the socket and never opens another. Idempotent. */
  close(): void {
    this.closed = true;
    this.messagesStopped = true;
    this.reconnectTimer?.cancel();
    this.reconnectTimer = undefined;
    this.open = false;
    const ws = this.ws;
    this.ws = undefined;
    this.batcher?.clear();
    const err = new TransportClosedError();
    for (const request of [...this.pending.values()]) request.fail(err);
    // terminate(), not close(): a close handshake would keep a timer (and the process) alive for as
    // long as the server takes to answer it; the server treats both as the stream's end.
    ws?.terminate();
  }

  /** The poll side's close(): Resonate.stop() still hands tasks back over the socket afterwards. */
  stopMessages(): void {
    this.messagesStopped = true;
  }

  /** The free slots may have changed: the end of this turn reports them if they did. */
  slotsChanged(): void {
    if (!this.eager || !this.open) return;
    this.reportDue = true;
    this.batcher?.touch();
  }

  /**
   * At the end of a turn (FrameBatcher's beforeFlush): a slots report, when the room the server
   * counts (the last report, less the acquired tasks read since) is more than the free slots (it
   * must not acquire what cannot start), or at most half of them and less (as a credit window is
   * topped up: with many slots, a report is rare; with few, one per freed slot).
   */
  private readonly report = (): void => {
    if (!this.reportDue || !this.eager || !this.open || !this.reported) return;
    this.reportDue = false;
    const free = this.eager.free();
    const room = this.reported.free - (this.seen - this.reported.seen);
    if (room === free || (room < free && room > free / 2)) return;
    this.reported = { free, seen: this.seen };
    this.batcher?.push(slotsItem(this.reported));
  };

  private connect(): void {
    const { token } = this.options;
    // A new socket: the server counts from the room stated in its query.
    this.seen = 0;
    this.reportDue = false;
    this.reported = this.eager ? { free: this.eager.free(), seen: 0 } : undefined;
    const url = this.reported && this.eager ? this.channelUrl + eagerQuery({ slots: this.reported.free, ttl: this.eager.ttl }) : this.channelUrl;
    // ws sets TCP_NODELAY on the socket itself: each frame leaves at once.
    const ws = new WebSocket(url, CHANNEL_SUBPROTOCOL, {
      perMessageDeflate: false,
      ...(token === undefined ? {} : { headers: { Authorization: `Bearer ${token}` } }),
    });
    this.ws = ws;
    this.batcher = new FrameBatcher(
      (frame) => {
        if (this.ws === ws && ws.readyState === WebSocket.OPEN) ws.send(frame);
      },
      MAX_FRAME_BYTES,
      this.report,
    );
    let reason: string | undefined;
    // Without this listener ws would only report "Unexpected server response: 404".
    ws.on("unexpected-response", (_req, res) => {
      reason = refusal(res.statusCode ?? 0);
      res.resume();
      ws.terminate();
    });
    // Always attached: an unhandled 'error' would throw. The 'close' that follows does the work.
    ws.on("error", (err) => (reason ??= errorText(err)));
    ws.on("open", () => this.opening(ws));
    ws.on("message", (data, isBinary) => this.receive(data, isBinary));
    ws.on("close", (code, why) => this.lost(ws, reason ?? closeReason(code, why.toString("utf8"))));
  }

  private opening(ws: WebSocket): void {
    if (this.ws !== ws) return;
    const reconnected = this.openedOnce;
    this.options.logger.info({ url: this.channelUrl, attempts: this.backoff.attempts }, reconnected ? "channel reopened" : "channel open");
    this.open = true;
    this.backoff.reset();
    this.openedOnce = true;
    this.markOpened();
    for (const request of this.pending.values()) if (!request.sent) this.send(request);
    this.slotsChanged(); // the room may have changed during the handshake
    if (!this.messagesStopped) this.options.onOpen?.(reconnected);
  }

  private send(request: Pending): void {
    request.sent = true;
    this.batcher?.push(request.body);
  }

  private receive(data: RawData, isBinary: boolean): void {
    if (isBinary) {
      this.options.logger.warn({ url: this.channelUrl }, "dropping a binary frame");
      return;
    }
    for (const item of frameItems(data.toString())) {
      const tag = item[0];
      const json = item.slice(1);
      if (tag === CHANNEL_ANSWER) this.answer(json);
      else if (tag === CHANNEL_MESSAGE) this.deliver(json);
      else if (tag === CHANNEL_ACQUIRED && this.eager) {
        this.seen++;
        this.acquired(json, this.eager);
        this.slotsChanged();
      }
      else this.options.logger.warn({ url: this.channelUrl, raw: item.slice(0, 200) }, "dropping an item with an unknown tag");
    }
  }

  private answer(text: string): void {
    let envelope: { head?: { corrId?: unknown; status?: unknown } } | undefined;
    try {
      envelope = JSON.parse(text) as typeof envelope;
    } catch {
      // falls through to the warning
    }
    const corrId = envelope?.head?.corrId;
    const status = envelope?.head?.status;
    if (typeof corrId !== "string" || typeof status !== "number") {
      this.options.logger.warn({ url: this.channelUrl, raw: text.slice(0, 200) }, "dropping a malformed answer");
      return;
    }
    // Unknown: its request timed out (or was failed) before the answer came.
    this.pending.get(corrId)?.resolve({ status, contentType: "application/json", text, json: envelope });
  }

  /** A task acquired for us: handed over even after stopMessages(), so that a stopping runner releases it. */
  private acquired(text: string, eager: ChannelEagerAcquire): void {
    let data: { task?: TaskRecord; promise?: PromiseRecord } | undefined;
    try {
      const envelope = JSON.parse(text) as { head?: { status?: unknown }; data?: typeof data };
      if (envelope.head?.status === 200) data = envelope.data;
    } catch {
      // falls through to the warning
    }
    if (typeof data?.task?.id !== "string" || typeof data.promise?.id !== "string") {
      this.options.logger.warn({ url: this.channelUrl, raw: text.slice(0, 200) }, "dropping a malformed acquired task; its lease will lapse");
      return;
    }
    eager.onAcquired({ task: data.task, promise: data.promise });
  }

  private deliver(data: string): void {
    if (!this.messagesStopped) deliverMessage(data, this.channelUrl, this.options);
  }

  /** The socket `ws` is gone: unless it is stale or we are closed, fail what it carried and reconnect after a back-off. */
  private lost(ws: WebSocket, reason: string): void {
    if (this.closed || this.ws !== ws) return;
    this.ws = undefined;
    this.batcher?.clear();
    this.batcher = undefined;
    this.open = false;
    const err = new Error(`the channel closed before the answer came (${reason})`);
    for (const request of [...this.pending.values()]) if (request.sent) request.fail(err);
    const delay = this.backoff.next();
    this.options.logger.warn({ url: this.channelUrl, delay, attempt: this.backoff.attempts, reason }, "channel lost, reconnecting");
    this.reconnectTimer = this.options.clock.setTimeout(() => {
      this.reconnectTimer = undefined;
      if (!this.closed) this.connect();
    }, delay);
  }
}

/**
 * The channel as Resonate's message stream. Its close() only stops the messages: Resonate.stop()
 * closes the stream first, then hands queued tasks back, and those requests need the socket. (An
 * execute pushed to us meanwhile is dropped; the server offers it to another process.) The socket
 * closes with the transport, in HttpClient.stop().
 */
class MessageView implements MessageStream {
  constructor(private readonly channel: ChannelTransport) {}

  start(): void {
    this.channel.start();
  }

  whenOpen(): Promise<void> {
    return this.channel.whenOpen();
  }

  get isOpen(): boolean {
    return this.channel.isOpen;
  }

  close(): void {
    this.channel.stopMessages();
  }
}

/** Why the server refused the upgrade, in words a user can act on. */
function refusal(status: number): string {
  const hint =
    status === 401 || status === 403
      ? ": is the token right?"
      : status === 404
        ? ": no channel at this url (it needs our server, recent enough; the reference server has none)"
        : "";
  return `the server refused the channel: HTTP ${status}${hint}`;
}

function closeReason(code: number, why: string): string {
  return `closed with code ${code}${why ? `: ${why}` : ""}`;
}

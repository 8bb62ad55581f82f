import { type IncomingMessage, ServerResponse } from "node:http";
import type { Duplex } from "node:stream";
import { CHANNEL_ACQUIRED, CHANNEL_ANSWER, CHANNEL_MESSAGE, CHANNEL_SLOTS, CHANNEL_SUBPROTOCOL, type EagerAcquire, FrameBatcher, frameItems, parseEagerAcquire } from "@resonate-compat/protocol/channel";
import type { FastifyInstance } from "fastify";
import { type WebSocket, WebSocketServer } from "ws";
import type { Clock } from "../clock";
import type { PollConnection } from "../delivery/connection";
import { atCapacity, type StreamLifecycle, streamOpened } from "../delivery/stream-lifecycle";
import { hopTraceOn, traceMessageWrite } from "../observability/hop-trace";
import { type Authenticator, bearerToken } from "./auth";
import { EagerAcquirer } from "./eager-acquire";
import type { ProtocolHandler } from "./protocol-handler";

// GET /ws/<group>/<pid> upgraded to a WebSocket: the channel of packages/protocol/src/channel.ts.
// It is two existing things on one socket: POST / (each request item goes through the same
// ProtocolHandler, so it joins the same group commits and is answered only after its commit) and
// the poll stream of (group, pid) (registered like an SSE stream: dispatch, disconnect recovery and
// the other replicas cannot tell them apart). What it saves is syscalls: the answers and messages
// one turn of the event loop produces for a process leave in one frame. A worker that opens it with
// ?slots=&ttl= also saves a round trip per task: executes for it become acquires made on its
// behalf while it has room, which it reports in "s" items (eager-acquire.ts).

const CHANNEL_PATH = /^\/ws\/([^/?]+)\/([^/?]+)\/?(?:\?.*)?$/;

export interface ChannelOptions extends StreamLifecycle {
  handler: ProtocolHandler;
  clock: Clock;
  /** Bytes a channel may have waiting for the socket before the server disconnects it. */
  bufferBytes: number;
  /** The largest frame a client may send (the body limit of POST /). */
  maxFrameBytes: number;
  /** Ping period; a client that has not answered the previous ping by the next one is cut off. */
  keepaliveInterval: number;
  auth?: Authenticator | undefined;
}

export function registerChannel(app: FastifyInstance, options: ChannelOptions): void {
  const { logger } = options;
  const sockets = new WebSocketServer({
    noServer: true,
    perMessageDeflate: false,
    maxPayload: options.maxFrameBytes,
    handleProtocols: (offered) => (offered.has(CHANNEL_SUBPROTOCOL) ? CHANNEL_SUBPROTOCOL : false),
  });

  app.server.on("upgrade", (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const match = CHANNEL_PATH.exec(request.url ?? "");
    if (!match || request.headers.upgrade?.toLowerCase() !== "websocket") {
      passOn(app, request, socket);
      return;
    }
    const target = decodeTarget(match[1]!, match[2]!);
    if (!target) return refuse(socket, 400, "Bad Request");
    const eager = parseEagerAcquire(new URL(request.url ?? "/", "http://channel").searchParams);
    if (typeof eager === "string") return refuse(socket, 400, "Bad Request", eager);
    void accept(request, socket, head, { ...target, eager }).catch((err: unknown) => {
      logger.error({ err }, "channel upgrade failed");
      refuse(socket, 500, "Internal Server Error");
    });
  });

  async function accept(request: IncomingMessage, socket: Duplex, head: Buffer, { group, pid, eager }: { group: string; pid: string; eager: EagerAcquire | undefined }): Promise<void> {
    // A client that names no subprotocol is served too (a tool like websocat); one that names
    // others only is refused, so a future format is never read as this one.
    const offered = request.headers["sec-websocket-protocol"];
    if (offered !== undefined && !offered.split(",").some((p) => p.trim() === CHANNEL_SUBPROTOCOL)) {
      return refuse(socket, 400, "Bad Request");
    }
    const token = bearerToken(request.headers.authorization);
    if (options.auth && !(await options.auth.verify(token))) return refuse(socket, 401, "Unauthorized");
    if (atCapacity(options, group, pid)) return refuse(socket, 503, "Poll registration at capacity");
    sockets.handleUpgrade(request, socket, head, (ws) => serve(ws, group, pid, eager, token));
  }

  function serve(ws: WebSocket, group: string, pid: string, eager: EagerAcquire | undefined, token: string | undefined): void {
    const frames = new FrameBatcher((frame) => {
      if (ws.readyState !== ws.OPEN) return;
      if (ws.bufferedAmount >= options.bufferBytes) {
        // A reader this far behind is stuck: drop it rather than hold its messages in memory.
        logger.warn({ group, pid, bytes: ws.bufferedAmount }, "channel disconnected: client is not reading");
        ws.terminate();
        return;
      }
      ws.send(frame);
    });
    const sendMessage = (message: string): boolean => {
      if (ws.readyState !== ws.OPEN) return false;
      frames.push(CHANNEL_MESSAGE + message);
      if (hopTraceOn) traceMessageWrite(message);
      return true;
    };
    const acquirer = eager
      ? new EagerAcquirer({
          handler: options.handler,
          pid,
          eager,
          token,
          logger,
          acquired: (answer) => ws.readyState === ws.OPEN && frames.push(CHANNEL_ACQUIRED + answer),
          fallback: sendMessage,
        })
      : undefined;
    const connection: PollConnection = {
      group,
      id: pid,
      seq: options.registry.newSeq(),
      openedAt: options.clock.now(),
      send(message, offer) {
        if (ws.readyState !== ws.OPEN) return false;
        return acquirer?.offer(message, offer) || sendMessage(message);
      },
      close() {
        // "Going away": the client reconnects (through the proxy, to whichever replica is up).
        ws.close(1001, "server closing");
      },
    };
    const closed = streamOpened(options, connection, "channel");

    ws.on("message", (data, isBinary) => {
      if (isBinary) {
        ws.close(1003, "text frames only");
        return;
      }
      for (const item of frameItems(data.toString())) {
        if (item[0] === CHANNEL_SLOTS) {
          if (!acquirer?.report(item.slice(1))) logger.warn({ group, pid, item: item.slice(0, 200) }, "channel: ignoring a slots report (malformed, or no eager acquire asked for)");
          continue;
        }
        options.handler.handle(item).then(
          (answer) => {
            if (ws.readyState === ws.OPEN) frames.push(CHANNEL_ANSWER + JSON.stringify(answer));
          },
          (err: unknown) => logger.error({ err, group, pid }, "channel request failed"),
        );
      }
    });

    // Pings keep the socket alive through proxies with idle timeouts and find a peer that vanished
    // without closing (a dead host, a cut network): no pong by the next ping, and it is cut off.
    let answered = true;
    ws.on("pong", () => (answered = true));
    const pinger = setInterval(() => {
      if (!answered) {
        logger.warn({ group, pid }, "channel disconnected: no pong");
        ws.terminate();
        return;
      }
      answered = false;
      ws.ping();
    }, options.keepaliveInterval);
    pinger.unref();

    ws.on("error", (err) => logger.info({ group, pid, err: err.message }, "channel error"));
    ws.on("close", () => {
      clearInterval(pinger);
      frames.clear();
      closed();
    });
  }
}

function decodeTarget(group: string, pid: string): { group: string; pid: string } | undefined {
  try {
    return { group: decodeURIComponent(group), pid: decodeURIComponent(pid) };
  } catch {
    return undefined;
  }
}

/** Answers an upgrade with a plain HTTP error; the body is `body` (the reason phrase by default). */
function refuse(socket: Duplex, status: number, text: string, body = text): void {
  socket.end(`HTTP/1.1 ${status} ${text}\r\ncontent-type: text/plain\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
}

/**
 * Any other upgrade (h2c from `curl --http2`, a WebSocket to another path) is answered as the plain
 * request it also is, as when no upgrade is offered at all. Node has already stopped parsing the
 * connection, so only a request without a body can be passed on; one with a body is refused.
 */
function passOn(app: FastifyInstance, request: IncomingMessage, socket: Duplex): void {
  const hasBody = request.headers["transfer-encoding"] !== undefined || Number(request.headers["content-length"] ?? 0) > 0;
  if (hasBody) return refuse(socket, 400, "Bad Request");
  const response = new ServerResponse(request);
  response.shouldKeepAlive = false;
  response.assignSocket(socket as never);
  response.on("finish", () => socket.end());
  request.push(null);
  app.server.emit("request", request, response);
}

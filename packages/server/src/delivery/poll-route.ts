import fastifySse from "@fastify/sse";
import type { FastifyInstance } from "fastify";
import type { Logger } from "pino";
import { type Authenticator, bearerToken } from "../api/auth";
import type { Clock } from "../clock";
import { hopTraceOn, traceMessageWrite } from "../observability/hop-trace";
import type { PollConnection } from "./connection";
import { atCapacity, type StreamLifecycle, streamOpened } from "./stream-lifecycle";

/** How long a stream may stay backed up, with more than bufferSize messages waiting, before it is cut. */
const STALL_MS = 1000;

export interface PollRouteOptions extends StreamLifecycle {
  clock: Clock;
  /** Messages a stream may have waiting for the socket before the server disconnects it. */
  bufferSize: number;
  /** Bytes a stream may have waiting for the socket before the server disconnects it. */
  bufferBytes: number;
  keepaliveInterval: number;
  /** Present when authentication is on: the stream needs a valid bearer token. */
  auth?: Authenticator | undefined;
}

/**
 * GET /poll/:group/:id — a worker's or client's message stream (spec §2.8): one SSE event per
 * message, `data: <json>` only; a comment line keeps idle streams alive through proxies.
 */
export async function registerPollRoute(app: FastifyInstance, options: PollRouteOptions): Promise<void> {
  const { registry, logger } = options;
  await app.register(fastifySse, { heartbeatInterval: options.keepaliveInterval });

  app.get<{ Params: { group: string; id: string } }>(
    "/poll/:group/:id",
    { sse: { kind: "manual" } },
    async (request, reply) => {
      const { group, id } = request.params;
      if (options.auth && !(await options.auth.verify(bearerToken(request.headers.authorization)))) {
        return reply.code(401).type("text/plain").send("Unauthorized");
      }
      if (atCapacity(options, group, id)) return reply.code(503).type("text/plain").send("Poll registration at capacity");

      // Messages written while the socket pushes back (its buffer is above the high-water mark and
      // 'drain' has not come yet), and since when it does. One dispatch pass may write many
      // messages before the socket gets a chance to flush, so a count alone would cut off readers
      // that keep up: a stream is given up only when it stays backed up for STALL_MS with more than
      // bufferSize messages waiting, or at once when bufferBytes are waiting.
      let waiting = 0;
      let backedUpSince: number | undefined;
      let open = true;
      reply.raw.on("drain", () => {
        waiting = 0;
        backedUpSince = undefined;
      });
      const cutOff = (why: string) => {
        // A reader this far behind is stuck: drop it rather than hold its messages in memory.
        // destroy, not end: end would wait forever to flush to a client that does not read.
        logger.warn({ group, pid: id, waiting, bytes: reply.raw.writableLength }, why);
        open = false;
        reply.raw.destroy();
      };
      let corked = false;
      const uncork = () => {
        corked = false;
        reply.raw.uncork();
      };
      const connection: PollConnection = {
        group,
        id,
        seq: registry.newSeq(),
        openedAt: options.clock.now(),
        send(message) {
          if (!open || !reply.sse.isConnected) return false;
          if (reply.raw.writableNeedDrain) {
            waiting++;
            backedUpSince ??= Date.now();
          }
          const stalled = waiting > options.bufferSize && Date.now() - (backedUpSince ?? Date.now()) >= STALL_MS;
          if (stalled || reply.raw.writableLength >= options.bufferBytes) {
            cutOff("poll stream disconnected: client is not reading");
            return false;
          }
          // The event format is one `data:` line (messages are JSON without newlines) and a blank
          // line, written straight to the socket. The socket is corked until the end of this tick:
          // the events one dispatch pass writes to this stream leave in one syscall, not one each.
          if (!corked) {
            corked = true;
            reply.raw.cork();
            process.nextTick(uncork);
          }
          reply.raw.write(`data: ${message}\n\n`);
          if (hopTraceOn) traceMessageWrite(message);
          return true;
        },
        close() {
          if (!open) return;
          open = false;
          reply.sse.close();
        },
      };

      reply.sse.keepAlive();
      reply.sse.sendHeaders(200);
      // Node holds written headers until the first body byte; clients wait for them to call the
      // stream open, so push them out now rather than with the first message.
      reply.raw.flushHeaders();
      const closed = streamOpened(options, connection, "sse");
      reply.sse.onClose(() => {
        open = false;
        closed();
      });
    },
  );
}

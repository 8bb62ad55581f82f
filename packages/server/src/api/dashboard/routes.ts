import type { ServerResponse } from "node:http";
import type { FastifyInstance } from "fastify";
import type { Metrics } from "../../observability/metrics";
import type { AdminDeps } from "../admin";
import { adminGuard } from "../admin-guard";
import { OVERVIEW_DEFAULTS, OverviewFeed, type OverviewOptions } from "./overview";

// The admin endpoints the dashboard needs beyond admin.ts: the overview once (GET /admin/overview)
// and as a stream of server-sent events (GET /admin/overview/stream), pushed every couple of
// seconds. docs/admin-api.md describes them. Same door as the rest of the admin API.

/** Unsent bytes a stream may hold before it is ended (an overview is a few kilobytes). */
const MAX_UNSENT_BYTES = 1 << 20;

export function registerOverviewRoutes(app: FastifyInstance, deps: AdminDeps, metrics: Metrics, options: Partial<OverviewOptions> = {}): void {
  const feed = new OverviewFeed(deps, metrics, { ...OVERVIEW_DEFAULTS, ...options }, app.log);
  const streams = new Set<ServerResponse>();
  // Open streams would keep close() waiting: end them first (a dashboard reconnects by itself).
  app.addHook("preClose", async () => {
    feed.close();
    for (const raw of streams) raw.end();
  });

  app.register(async (scope) => {
    scope.addHook("onRequest", adminGuard(deps.auth));

    scope.get("/admin/overview", async () => feed.current());

    scope.get("/admin/overview/stream", async (_request, reply) => {
      // A plain event stream, written by hand: one `overview` event per push (no keep-alive
      // comments needed in between, pushes come every couple of seconds).
      reply.hijack();
      const raw = reply.raw;
      streams.add(raw);
      raw.writeHead(200, {
        "content-type": "text/event-stream; charset=utf-8",
        "cache-control": "no-cache, no-transform",
        connection: "keep-alive",
        // nginx would otherwise buffer the stream (deploy/nginx).
        "x-accel-buffering": "no",
      });
      raw.write(": overview stream\n\n");
      const stop = feed.watch((overview) => {
        if (raw.writableEnded || raw.destroyed) return;
        // A reader that stopped reading would make the unsent pushes pile up here: cut it off (a
        // dashboard reconnects by itself).
        if (raw.writableLength > MAX_UNSENT_BYTES) return void raw.end();
        raw.write(`event: overview\ndata: ${JSON.stringify(overview)}\n\n`);
      });
      raw.on("close", () => {
        stop();
        streams.delete(raw);
      });
    });
  });
}

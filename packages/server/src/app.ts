import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from "fastify";
import type { Logger } from "pino";
import cors from "@fastify/cors";
import { type AdminDeps, registerAdminRoutes } from "./api/admin";
import { registerOverviewRoutes } from "./api/dashboard/routes";
import { registerUi } from "./api/ui";
import { registerChannel } from "./api/channel";
import { edgeServerOptions, registerEdgeAnswers } from "./api/http-edges";
import type { ProtocolHandler } from "./api/protocol-handler";
import type { PollRouteOptions } from "./delivery/poll-route";
import { registerPollRoute } from "./delivery/poll-route";
import type { Metrics } from "./observability/metrics";
import type { Store } from "./store/store";

export interface AppDeps {
  logger: Logger;
  store: Store;
  handler: ProtocolHandler;
  metrics: Metrics;
  /** The read-only admin API for tools (/admin/…). */
  admin: AdminDeps;
  bodyLimit: number;
  /** Origins allowed by CORS; empty = no CORS headers at all; "*" = any origin (spec §2.7). */
  corsOrigins: readonly string[];
  poll: PollRouteOptions;
}

const LEGACY_GONE = { error: "This endpoint is no longer supported. Please update to the latest SDK." };
const LEGACY_PREFIXES = ["/promises", "/schedules", "/tasks"];

/** Builds the HTTP surface (spec §2.1); wiring only, no protocol logic. */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: deps.logger.child({ component: "http" }) as FastifyBaseLogger,
    // Per-request lines would drown the log at thousands of requests a second; the protocol
    // handler logs what matters (failures) with its own fields.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: deps.bodyLimit,
    // A request must have arrived whole within this time (a body trickling in byte by byte is cut
    // off). Node applies it only until the request is received, so poll streams are not affected.
    requestTimeout: 120_000,
    ...edgeServerOptions,
  });
  // 404, 413 and 414 as the reference answers them, before any other hook runs.
  registerEdgeAnswers(app);

  // The body of POST / is JSON whatever its content type says (spec §2.6): read it as text and
  // let the envelope parser report bad JSON in the protocol's own error format.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", { parseAs: "string" }, (_request, body, done) => done(null, body));

  if (deps.corsOrigins.length > 0) {
    const any = deps.corsOrigins.includes("*");
    await app.register(cors, any
      ? { origin: true, exposedHeaders: "*" }
      : {
          origin: [...deps.corsOrigins],
          methods: ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
          allowedHeaders: ["Origin", "Content-Length", "Content-Type", "Authorization"],
        });
  }

  app.post("/", {
    // Whatever the client declares (even an unparsable Content-Type, which Fastify would refuse
    // with 415 before any parser runs), the body is read as text and parsed as JSON.
    onRequest: async (request) => {
      request.headers["content-type"] = "text/plain";
    },
  }, async (request, reply) => {
    const body = typeof request.body === "string" ? request.body : "";
    const envelope = await deps.handler.handle(body);
    return reply.code(envelope.head.status).type("application/json").send(envelope);
  });

  // A known path with the wrong method is a 405, as the reference answers (spec §2.1).
  const methodNotAllowed = (url: string, allow: string) =>
    app.route({
      method: ["GET", "POST", "PUT", "PATCH", "DELETE"].filter((m) => m !== allow),
      url,
      handler: async (_request, reply) => reply.code(405).header("allow", allow).send(),
    });
  methodNotAllowed("/", "POST");
  methodNotAllowed("/health", "GET");
  methodNotAllowed("/ready", "GET");
  methodNotAllowed("/metrics", "GET");
  methodNotAllowed("/poll/:group/:id", "GET");

  app.get("/health", async (_request, reply) => reply.code(200).send());
  app.get("/ready", async (_request, reply) => reply.code((await deps.store.ping()) ? 200 : 503).send());
  // Prometheus text format; the group gauges are read from the database on each scrape.
  app.get("/metrics", async (_request, reply) => reply.code(200).type(deps.metrics.contentType).send(await deps.metrics.render()));

  for (const prefix of LEGACY_PREFIXES) {
    for (const url of [prefix, `${prefix}/*`]) {
      app.all(url, async (_request, reply) => reply.code(410).type("application/json").send(LEGACY_GONE));
    }
  }

  registerAdminRoutes(app, deps.admin);
  // The web dashboard (/ui) and the admin endpoints only it needs (/admin/overview…).
  registerOverviewRoutes(app, deps.admin, deps.metrics);
  await registerUi(app);
  await registerPollRoute(app, deps.poll);
  // POST / and the poll stream on one WebSocket, for clients that opt in (our SDK's `transport: "websocket"`).
  registerChannel(app, { ...deps.poll, handler: deps.handler, maxFrameBytes: deps.bodyLimit });
  return app;
}

import type { FastifyInstance } from "fastify";

// What the HTTP layer answers outside the protocol, made to match the reference server (axum 0.7.9
// on hyper 1.8; see docs/deviations.md), not Fastify's and Node's own answers, which carry JSON
// bodies of their own and other limits:
//   * an unknown path → 404 with an empty body (axum's default fallback);
//   * a body over the limit → 413 "Failed to buffer the request body: length limit exceeded" as
//     text/plain (axum's body extractor over its 2 MiB default limit);
//   * a request-target longer than 65 534 bytes → 414 with an empty body (hyper refuses it while
//     parsing, before any routing); a request head longer than hyper's read buffer → 431.

/** hyper's longest request-target (path and query); a longer one is answered 414. */
export const MAX_URI_LENGTH = 65_534;

/**
 * The largest request head (request line and headers): hyper's read buffer, 8 KiB + 100 × 4 KiB.
 * Node's default (16 KiB) would answer 431 to URIs the reference accepts.
 */
export const MAX_HEAD_BYTES = 8_192 + 100 * 4_096;

export const BODY_TOO_LARGE = "Failed to buffer the request body: length limit exceeded";

/** Options for Fastify(): the head limit, and no limit of its own on path parameters. */
export const edgeServerOptions = {
  http: { maxHeaderSize: MAX_HEAD_BYTES },
  // find-my-way answers 414 with its own JSON to a path parameter over 100 characters (a long
  // worker id in /poll/:group/:id); the reference has only the URI limit, checked below.
  routerOptions: { maxParamLength: Number.MAX_SAFE_INTEGER },
};

/** Registers the 414, 404 and 413 answers; call before any other hook or route. */
export function registerEdgeAnswers(app: FastifyInstance): void {
  app.addHook("onRequest", async (request, reply) => {
    if ((request.raw.url ?? "").length > MAX_URI_LENGTH) {
      // hyper closes the connection after it: whatever follows the head is not read.
      return reply.code(414).header("connection", "close").send();
    }
  });

  app.setNotFoundHandler(async (_request, reply) => reply.code(404).send());

  app.setErrorHandler(async (error, _request, reply) => {
    if ((error as { code?: string }).code === "FST_ERR_CTP_BODY_TOO_LARGE") {
      return reply.code(413).type("text/plain; charset=utf-8").send(BODY_TOO_LARGE);
    }
    // Anything else keeps Fastify's own answer.
    throw error;
  });
}

import type { ResponseEnvelope } from "@resonate-compat/protocol";
import { type Kind, describeIssues, isKind, requestSchemas } from "@resonate-compat/protocol";
import type { Logger } from "pino";
import type { Clock } from "../clock";
import type { EmptyHeartbeat, HistoryOptions, OpContext, Reply } from "../domain/context";
import { operations, type StoredKind } from "../domain/operations";
import type { Op } from "../store/op";
import type { Committer } from "../store/commit/committer";
import type { Metrics } from "../observability/metrics";
import { hopTraceOn, requestId, traceHop } from "../observability/hop-trace";
import { type Authenticator, isAuthorized } from "./auth";
import { isResponse, type ParsedEnvelope, parseEnvelope, response } from "./envelope";

export interface ProtocolHandlerDeps {
  commits: Committer;
  clock: Clock;
  logger: Logger;
  retryTimeout: number;
  /** What a heartbeat naming no task does (spec §13 C2). */
  emptyHeartbeat: EmptyHeartbeat;
  /** The reference's latest-revision rules (spec §13 C1–C4); see OpContext.strict. */
  strict: boolean;
  debug: boolean;
  /** Called after the commit with what was done (the dispatcher learns of acquires). */
  onCommit: (kind: Kind, data: unknown, status: number) => void;
  /** Present when authentication is on. */
  auth?: Authenticator | undefined;
  /** Pause and resume the background loops (debug.start / debug.stop). */
  loops: { pause(): void; resume(): void };
  /** Present when the dispatch history is on. */
  history?: HistoryOptions | undefined;
  /** Counts every answer by kind and status, and times it. */
  metrics?: Metrics | undefined;
}

/**
 * The protocol endpoint: envelope checks → zod-validated data → one domain operation inside one
 * transaction → response. The transaction is shared with the other requests of the same event-loop
 * turn (group commit) and the answer waits for its commit. A thrown error rolls the operation back
 * and answers 500: nothing half-written is ever committed.
 */
export class ProtocolHandler {
  constructor(private readonly deps: ProtocolHandlerDeps) {}

  /** A request body as POST / gets it, or an envelope this server built itself (the channel's eager acquire). */
  async handle(request: string | ParsedEnvelope): Promise<ResponseEnvelope> {
    const { metrics } = this.deps;
    if (!metrics) return this.answer(request);
    const started = performance.now();
    const answer = await this.answer(request);
    // Only known kinds become label values: a client must not be able to mint new series.
    const kind = isKind(answer.kind) ? answer.kind : "unknown";
    metrics.request(kind, answer.head.status, (performance.now() - started) / 1000);
    return answer;
  }

  private async answer(request: string | ParsedEnvelope): Promise<ResponseEnvelope> {
    const envelope = typeof request === "string" ? parseEnvelope(request) : request;
    if (isResponse(envelope)) return envelope;
    const { kind, corrId, head, data } = envelope;
    const { deps } = this;
    if (hopTraceOn) traceHop("recv", kind, requestId(data));

    if (deps.auth) {
      // Before the kind is resolved, as the reference does: an unknown kind can answer 401/403.
      const claims = await deps.auth.verify(head["auth"] as string | null | undefined);
      if (!claims) return response(kind, corrId, 401, "Unauthorized");
      if (!isAuthorized(claims, kind, data)) return response(kind, corrId, 403, "Forbidden");
    }

    if (!isKind(kind)) return response(kind, corrId, 400, `Unknown operation: ${kind}`);
    if (kind.startsWith("debug.") && !deps.debug) return response(kind, corrId, 403, "Debug operations are disabled");

    const parsed = requestSchemas[kind].safeParse(data);
    if (!parsed.success) return response(kind, corrId, 400, describeIssues(parsed.error));

    const debugTime = deps.debug ? (head["resonate:debug_time"] as number | null | undefined) : undefined;
    if (kind === "debug.tick" && debugTime != null && debugTime !== (parsed.data as { time: number }).time) {
      return response(kind, corrId, 400, "resonate:debug_time must equal data.time");
    }
    if (kind === "debug.start" || kind === "debug.stop") {
      if (kind === "debug.start") deps.loops.pause();
      else deps.loops.resume();
      return response(kind, corrId, 200, {});
    }

    const now = debugTime ?? deps.clock.now();
    let reply: Reply;
    try {
      reply = await deps.commits.submit((tx) => {
        if (hopTraceOn) traceHop("run", kind, requestId(data));
        const ctx: OpContext = { tx, now, retryTimeout: deps.retryTimeout, corrId, emptyHeartbeat: deps.emptyHeartbeat, strict: deps.strict, history: deps.history };
        const operation = operations[kind as StoredKind] as (ctx: OpContext, data: unknown) => Op<Reply>;
        return operation(ctx, parsed.data);
      });
    } catch (error) {
      deps.logger.error({ err: error, kind, corrId }, "operation failed; transaction rolled back");
      return response(kind, corrId, 500, `Internal error: ${(error as Error).message}`);
    }
    deps.onCommit(kind, parsed.data, reply.status);
    if (hopTraceOn) traceHop("answered", kind, requestId(data));
    return response(kind, corrId, reply.status, reply.data);
  }
}

import { type EagerAcquire } from "@resonate-compat/protocol/channel";
import { PROTOCOL_VERSION } from "@resonate-compat/protocol";
import type { Logger } from "pino";
import type { ExecuteOffer } from "../delivery/connection";
import type { ProtocolHandler } from "./protocol-handler";

// The channel's eager acquire (protocol/src/channel.ts): an execute for a worker that asked for it
// and has a free slot becomes the task.acquire that worker would have sent, with its pid and ttl,
// through the same handler (its token, its authorisation, the same group commit, history and
// dispatcher bookkeeping), and the answer goes to the worker instead of the execute. Nothing here
// decides anything the protocol does not: the acquire is the worker's, sent one round trip sooner.

export interface EagerAcquireOptions {
  handler: ProtocolHandler;
  pid: string;
  eager: EagerAcquire;
  /** The bearer token the channel was opened with, as the worker's own requests carry it in head.auth. */
  token: string | undefined;
  logger: Logger;
  /** Hands the task.acquire answer envelope (status 200) to the worker. */
  acquired: (answer: string) => void;
  /** Sends the execute itself, when the acquire could not be made (the worker then tries on its own). */
  fallback: (message: string) => void;
}

/**
 * Returns whether the execute was taken over: true when an acquire was sent for it (its outcome is
 * reported through `acquired` or `fallback` later), false when the worker's slots are full or the
 * message is not an execute this server routed, so the caller sends the message as usual.
 */
export function eagerAcquirer(options: EagerAcquireOptions): (message: string, offer: ExecuteOffer | undefined) => boolean {
  const { handler, pid, eager, token, logger } = options;
  let sent = 0;
  return (message, offer) => {
    if (!offer || offer.inHand >= eager.slots) return false;
    const corrId = `eager-${++sent}`;
    const request = JSON.stringify({
      kind: "task.acquire",
      head: { corrId, version: PROTOCOL_VERSION, ...(token === undefined ? {} : { auth: token }) },
      data: { id: offer.taskId, version: offer.version, pid, ttl: eager.ttl },
    });
    handler.handle(request).then(
      (answer) => {
        if (answer.head.status === 200) return options.acquired(JSON.stringify(answer));
        // 409 or 404: the task moved on (acquired elsewhere, settled), as the worker's own acquire
        // would have learnt; nothing to send. Anything else did not commit: let the worker try.
        if (answer.head.status === 409 || answer.head.status === 404) {
          logger.debug({ pid, id: offer.taskId, version: offer.version, status: answer.head.status }, "eager acquire refused: the task moved on");
          return;
        }
        logger.warn({ pid, id: offer.taskId, version: offer.version, status: answer.head.status, data: answer.data }, "eager acquire failed: the execute is sent instead");
        options.fallback(message);
      },
      (err: unknown) => {
        logger.error({ err, pid, id: offer.taskId }, "eager acquire failed: the execute is sent instead");
        options.fallback(message);
      },
    );
    return true;
  };
}

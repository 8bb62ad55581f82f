import { type EagerAcquire, parseSlotsReport } from "@resonate-compat/protocol/channel";
import { PROTOCOL_VERSION } from "@resonate-compat/protocol";
import type { Logger } from "pino";
import type { ExecuteOffer } from "../delivery/connection";
import type { ProtocolHandler } from "./protocol-handler";

// The channel's eager acquire (protocol/src/channel.ts): an execute for a worker that asked for it
// and has room becomes the task.acquire that worker would have sent, with its pid and ttl, through
// the same handler (its token, its authorisation, the same group commit, history and dispatcher
// bookkeeping), and the answer goes to the worker instead of the execute. Nothing here decides
// anything the protocol does not: the acquire is the worker's, sent one round trip sooner.
//
// The room is the worker's own count, as credit: its free slots when it opened the channel, then
// each "s" report (free slots once the first `seen` acquired tasks are counted). Room left = free −
// (acquired tasks sent − seen). The dispatcher's lease counts are not used: on PostgreSQL they are
// a hint up to 50 ms old, and a burst would then lease a busy worker far more than it can start.

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

export class EagerAcquirer {
  private free: number;
  private seen = 0;
  /** Acquired tasks sent on this socket, or on their way (acquires not answered yet). */
  private sent = 0;
  private corr = 0;

  constructor(private readonly options: EagerAcquireOptions) {
    this.free = options.eager.slots;
  }

  private get room(): number {
    return this.free - (this.sent - this.seen);
  }

  /** The worker's "s" item (without its tag); false when it is malformed. */
  report(json: string): boolean {
    const report = parseSlotsReport(json);
    if (!report || report.seen > this.sent) return false;
    this.free = report.free;
    this.seen = report.seen;
    return true;
  }

  /**
   * Takes the execute over when the worker has room: an acquire is sent for it, and its outcome
   * reaches the worker through `acquired` or `fallback` later. False when there is no room or the
   * message is not an execute this server routed: the caller sends the message as usual.
   */
  offer(message: string, offer: ExecuteOffer | undefined): boolean {
    if (!offer || this.room <= 0) return false;
    const { handler, pid, eager, token, logger } = this.options;
    this.sent++;
    // Built as the handler's parsed envelope: no JSON text to write and read back on the dispatch path.
    const corrId = `eager-${++this.corr}`;
    const request = {
      kind: "task.acquire",
      corrId,
      head: { corrId, version: PROTOCOL_VERSION, ...(token === undefined ? {} : { auth: token }) },
      data: { id: offer.taskId, version: offer.version, pid, ttl: eager.ttl },
    };
    handler.handle(request).then(
      (answer) => {
        if (answer.head.status === 200) return this.options.acquired(JSON.stringify(answer));
        this.sent--; // nothing reaches the worker as a "t" item: the room is back
        // 409 or 404: the task moved on (acquired elsewhere, settled), as the worker's own acquire
        // would have learnt; nothing to send. Anything else did not commit: let the worker try.
        if (answer.head.status === 409 || answer.head.status === 404) {
          logger.debug({ pid, id: offer.taskId, version: offer.version, status: answer.head.status }, "eager acquire refused: the task moved on");
          return;
        }
        logger.warn({ pid, id: offer.taskId, version: offer.version, status: answer.head.status, data: answer.data }, "eager acquire failed: the execute is sent instead");
        this.options.fallback(message);
      },
      (err: unknown) => {
        this.sent--;
        logger.error({ err, pid, id: offer.taskId }, "eager acquire failed: the execute is sent instead");
        this.options.fallback(message);
      },
    );
    return true;
  }
}

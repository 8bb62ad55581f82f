import type { Message } from "@resonate-compat/protocol";
import type { Logger } from "pino";

/**
 * Delivers messages to http(s) addresses by POST, at most `concurrency` at a time; the receiver's
 * answer is only logged and nothing is retried (spec §7.4).
 */
export function createHttpPush(logger: Logger, options = { concurrency: 256, timeoutMs: 180_000 }) {
  let inFlight = 0;
  return (url: string, message: Message): void => {
    if (inFlight >= options.concurrency) {
      logger.warn({ url, kind: message.kind }, "push dropped: too many deliveries in flight");
      return;
    }
    inFlight++;
    fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(message),
      signal: AbortSignal.timeout(options.timeoutMs),
    })
      .then((res) => logger.debug({ url, kind: message.kind, status: res.status }, "push delivered"))
      .catch((error: unknown) => logger.warn({ url, kind: message.kind, err: error }, "push failed"))
      .finally(() => inFlight--);
  };
}

import type { Logger } from "pino";
import type { PollConnection } from "./connection";
import type { PollRegistry } from "./registry";

/** What every kind of poll stream (SSE or channel) reports to, when it opens and when it closes. */
export interface StreamLifecycle {
  registry: PollRegistry;
  logger: Logger;
  maxConnections: number;
  /** Dispatch, recovery and the cluster listen to these. */
  onOpen?: (connection: PollConnection) => void;
  onClose?: (connection: PollConnection) => void;
}

/** Whether a new stream must be refused (503): the server holds as many as it may. */
export function atCapacity(lifecycle: StreamLifecycle, group: string, pid: string): boolean {
  const { registry, logger } = lifecycle;
  if (registry.size < lifecycle.maxConnections) return false;
  logger.warn({ group, pid, open: registry.size }, "poll stream refused: at capacity");
  return true;
}

/**
 * Makes an opened stream the one messages for its (group, pid) go to, and returns what its
 * transport calls once it has closed (any number of times).
 */
export function streamOpened(lifecycle: StreamLifecycle, connection: PollConnection, via: "sse" | "channel"): () => void {
  const { registry, logger } = lifecycle;
  const { group, id: pid } = connection;
  // A reconnect with the same pid replaces the old stream, which may not know yet that its
  // client is gone; messages for that pid must reach the live one.
  for (const stale of registry.withId(group, pid)) {
    logger.info({ group, pid }, "poll stream replaced by a reconnect");
    stale.close();
  }
  registry.add(connection);
  logger.info({ group, pid, via, open: registry.size }, "poll stream opened");
  lifecycle.onOpen?.(connection);
  return () => {
    if (!registry.remove(connection)) return;
    logger.info({ group, pid, via, open: registry.size }, "poll stream closed");
    lifecycle.onClose?.(connection);
  };
}

import type { ExecuteMessage, Message, UnblockMessage } from "@resonate-compat/protocol";
import { parseAddress } from "@resonate-compat/protocol";
import type { Logger } from "pino";
import type { Outgoing, Store } from "../store/store";
import type { PollRegistry } from "./registry";

const CLAIM_BATCH = 100;

export interface DispatcherDeps {
  store: Store;
  registry: PollRegistry;
  logger: Logger;
  /** head.serverUrl of execute messages. */
  serverUrl: string;
  /** Sends a message to an http(s) address; failures are only logged (spec §7.4). */
  push: (url: string, message: Message) => void;
}

/**
 * Drains the outbox: claims queued messages in one transaction (deleting them), then hands each to
 * its address. Delivery is at most once; a lost execute is recovered by the task's retry timeout and
 * a lost unblock by the SDK's periodic listener refresh (spec §7.2).
 */
export class Dispatcher {
  private scheduled = false;
  private paused = false;
  private stopped = false;

  constructor(private readonly deps: DispatcherDeps) {}

  /** Asks for a drain soon; many kicks in one turn of the event loop make one drain. */
  kick(): void {
    if (this.scheduled || this.paused || this.stopped) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.drain();
    });
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    this.kick();
  }

  stop(): void {
    this.stopped = true;
  }

  /** Claims and sends until the outbox is empty. */
  drain(): void {
    if (this.paused || this.stopped) return;
    for (;;) {
      let batch: Outgoing[];
      try {
        batch = this.deps.store.transact((tx) => tx.claimOutgoing(CLAIM_BATCH));
      } catch (error) {
        this.deps.logger.error({ err: error }, "claiming outgoing messages failed");
        return;
      }
      for (const outgoing of batch) this.deliver(outgoing);
      if (batch.length < CLAIM_BATCH) return;
    }
  }

  private deliver(outgoing: Outgoing): void {
    const { logger } = this.deps;
    const message = this.toMessage(outgoing);
    const address = parseAddress(outgoing.address);
    const fields = outgoing.kind === "execute"
      ? { kind: "execute", task: outgoing.taskId, version: outgoing.version, address: outgoing.address }
      : { kind: "unblock", promise: outgoing.promise.id, address: outgoing.address };
    if (!address) {
      logger.warn(fields, "message dropped: invalid address");
      return;
    }
    switch (address.scheme) {
      case "poll": {
        const connection = this.deps.registry.route(address);
        if (!connection) {
          logger.debug(fields, "message dropped: no open stream for the address");
        } else if (connection.send(JSON.stringify(message))) {
          logger.debug({ ...fields, pid: connection.id }, "message sent");
        } else {
          logger.warn({ ...fields, pid: connection.id }, "message dropped: stream closed or its buffer is full");
        }
        return;
      }
      case "http":
        this.deps.push(address.url, message);
        return;
      case "unsupported":
        logger.warn(fields, "message dropped: transport not supported by this server");
    }
  }

  private toMessage(outgoing: Outgoing): Message {
    if (outgoing.kind === "execute") {
      const execute: ExecuteMessage = {
        kind: "execute",
        head: { serverUrl: this.deps.serverUrl },
        data: { task: { id: outgoing.taskId, version: outgoing.version } },
      };
      return execute;
    }
    const unblock: UnblockMessage = { kind: "unblock", head: {}, data: { promise: outgoing.promise } };
    return unblock;
  }
}

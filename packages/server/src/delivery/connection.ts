import type { OutgoingExecute } from "../store/store";

/** The task of an execute this server routed to a stream, for a connection that acquires on its process's behalf. */
export type ExecuteOffer = Pick<OutgoingExecute, "taskId" | "version">;

/**
 * One open poll stream of a worker or client process. `send` hands over one serialised message
 * and says whether it was accepted (false when the stream is gone or its buffer is full); an
 * execute routed by this server comes with its `offer` (the channel's eager acquire uses it).
 */
export interface PollConnection {
  readonly group: string;
  /** The process id from the path (/poll/<group>/<id>). */
  readonly id: string;
  /** Registration order on this server, used to pick the oldest of several streams with the same id. */
  readonly seq: number;
  /** When the stream opened (ms). */
  readonly openedAt: number;
  send(message: string, offer?: ExecuteOffer): boolean;
  close(): void;
}

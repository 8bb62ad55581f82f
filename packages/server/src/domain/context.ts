import type { Tx } from "../store/store";

/** What every domain operation knows besides its input. */
export interface OpContext {
  tx: Tx;
  /** The request's time (the clock, or resonate:debug_time in debug mode). */
  now: number;
  /** How long a pending task waits before its execute is sent again (spec: RETRY). */
  retryTimeout: number;
  /** The request's corrId, echoed inside task.fence's inner response. */
  corrId: string;
  /**
   * What a heartbeat with an empty task list does (spec §13 C2): "renew" extends every lease the
   * process holds (older SDKs never name their tasks), "ignore" renews nothing (the reference).
   */
  emptyHeartbeat?: EmptyHeartbeat;
  /**
   * The reference's latest-revision rules (spec §13 C1–C4): lineage and same-origin checks, no "."
   * in schedule ids, 400 on an empty heartbeat, and background timeouts only for promises with a
   * target. Off by default: they break ordinary SDK traffic; they exist for differential testing.
   */
  strict?: boolean;
  /** Present when the dispatch history is on: every task event is written in this transaction. */
  history?: HistoryOptions | undefined;
}

export interface HistoryOptions {
  /** The replica serving the change (written on each event). */
  replica: string;
  /** Events older than this many ms are pruned by the timeout pass. */
  retentionMs: number;
  /** At most about this many events are kept (the oldest go first). */
  maxEvents: number;
}

export type EmptyHeartbeat = "renew" | "ignore";

/** A domain answer: the protocol status and the response data (a message string on errors). */
export interface Reply {
  status: number;
  data: unknown;
}

export const ok = (data: unknown = {}): Reply => ({ status: 200, data });
export const fail = (status: 400 | 403 | 404 | 409 | 422, message: string): Reply => ({ status, data: message });

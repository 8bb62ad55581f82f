import type { PromiseRecord } from "./records";

// Messages the server pushes to addresses (spec §7.1).

export interface ExecuteMessage {
  kind: "execute";
  head: { serverUrl?: string };
  data: { task: { id: string; version: number } };
}

export interface UnblockMessage {
  kind: "unblock";
  head: Record<string, never>;
  data: { promise: PromiseRecord };
}

export type Message = ExecuteMessage | UnblockMessage;

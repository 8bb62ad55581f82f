import type { Address } from "@resonate-compat/protocol";
import type { PollConnection } from "./connection";

export type PollAddress = Extract<Address, { scheme: "poll" }>;

/**
 * An open poll stream somewhere in the cluster: on this server (`connection` set) or on another
 * replica of the same database, which delivers what is forwarded to it. A single server only ever
 * has local ones.
 */
export interface StreamRef {
  /** The replica holding the stream. */
  readonly replica: string;
  /** That replica's number for the stream, in registration order. */
  readonly seq: number;
  readonly group: string;
  /** The process id from the path (/poll/<group>/<id>). */
  readonly id: string;
  /** When it opened (ms): the oldest of several streams with one id wins for `uni`. */
  readonly openedAt: number;
  /** Present when this server holds the stream. */
  readonly connection?: PollConnection;
}

/** A stream's identity across the cluster. */
export const streamKey = (stream: Pick<StreamRef, "replica" | "seq">): string => `${stream.replica}#${stream.seq}`;

/** Where the open streams are: the local registry, and with several replicas the others' too. */
export interface StreamDirectory {
  /** This server's replica id. */
  readonly replica: string;
  /** The group's streams, oldest first (shared: never change the list). */
  inGroup(group: string): readonly StreamRef[];
  /** Whether any stream, in any group, on any live replica, belongs to this process id. */
  isConnected(pid: string): boolean;
  /** Every stream, of every group (for metrics and the admin API). */
  all(): StreamRef[];
}

/**
 * The stream a message for `address` goes to, or undefined (dropped), among the group's streams
 * (spec §7.3): `uni@g/id` → the oldest stream with that id; `any@g/id` → that one if open, else
 * one of the group picked by `choose`; `any@g` → one of the group picked by `choose`.
 */
export function routeWithin(
  address: PollAddress,
  streams: readonly StreamRef[],
  choose: (list: readonly StreamRef[]) => StreamRef | undefined,
  options: { ignoreId?: boolean } = {},
): StreamRef | undefined {
  if (streams.length === 0) return undefined;
  if (address.id !== undefined && !options.ignoreId) {
    const exact = oldestWithId(streams, address.id);
    if (exact || address.cast === "uni") return exact;
  } else if (address.cast === "uni") {
    return undefined;
  }
  return choose(streams);
}

function oldestWithId(streams: readonly StreamRef[], id: string): StreamRef | undefined {
  let best: StreamRef | undefined;
  for (const s of streams) if (s.id === id && (best === undefined || s.openedAt < best.openedAt)) best = s;
  return best;
}

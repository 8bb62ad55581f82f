import type { PollConnection } from "./connection";
import type { PollRegistry } from "./registry";
import type { StreamDirectory, StreamRef } from "./streams";

/** The streams of one server: its own registry is the whole picture. */
export class LocalDirectory implements StreamDirectory {
  constructor(
    readonly replica: string,
    private readonly registry: PollRegistry,
  ) {}

  inGroup(group: string): StreamRef[] {
    return this.registry.inGroup(group).map((c) => localStream(this.replica, c));
  }

  isConnected(pid: string): boolean {
    return this.registry.hasId(pid);
  }

  all(): StreamRef[] {
    return this.registry.all().map((c) => localStream(this.replica, c));
  }
}

export function localStream(replica: string, connection: PollConnection): StreamRef {
  return { replica, seq: connection.seq, group: connection.group, id: connection.id, openedAt: connection.openedAt, connection };
}

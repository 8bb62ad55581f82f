import type { PollConnection } from "./connection";
import type { PollRegistry } from "./registry";
import type { StreamDirectory, StreamRef } from "./streams";

/** The streams of one server: its own registry is the whole picture. */
export class LocalDirectory implements StreamDirectory {
  /**
   * Each group's streams as last built, with the registry generation they were built at: every
   * execute routed asks for its group's streams, and streams open and close far less often.
   */
  private readonly groups = new Map<string, { generation: number; streams: readonly StreamRef[] }>();

  constructor(
    readonly replica: string,
    private readonly registry: PollRegistry,
  ) {}

  inGroup(group: string): readonly StreamRef[] {
    const generation = this.registry.generation;
    const cached = this.groups.get(group);
    if (cached?.generation === generation) return cached.streams;
    if (cached && this.groups.size > 1000) this.groups.clear(); // groups come and go: keep it bounded
    const streams = this.registry.inGroup(group).map((c) => localStream(this.replica, c));
    this.groups.set(group, { generation, streams });
    return streams;
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

import { localStream } from "../delivery/local-directory";
import type { PollRegistry } from "../delivery/registry";
import type { StreamDirectory, StreamRef } from "../delivery/streams";

/** A stream row as the replicas announce it. */
export interface RemoteStream {
  replica: string;
  seq: number;
  group: string;
  pid: string;
  openedAt: number;
}

/**
 * Every open stream of the cluster: this replica's own (its registry) and the other live
 * replicas' (announced through the database; see presence.ts). Routing reads it on every message,
 * so it is kept in memory, refreshed by notifications and by a full read every presence beat.
 */
export class ClusterDirectory implements StreamDirectory {
  /** Other replicas' streams, by group. */
  private remote = new Map<string, StreamRef[]>();
  private remotePids = new Map<string, number>();
  /** Moves on with every change to `remote`. */
  private remoteChanges = 0;
  /** Each group's streams as last built (see LocalDirectory: routing asks on every message). */
  private readonly groups = new Map<string, { local: number; remote: number; streams: readonly StreamRef[] }>();

  constructor(
    readonly replica: string,
    private readonly registry: PollRegistry,
  ) {}

  inGroup(group: string): readonly StreamRef[] {
    const generation = this.registry.generation;
    const cached = this.groups.get(group);
    if (cached?.local === generation && cached.remote === this.remoteChanges) return cached.streams;
    if (cached && this.groups.size > 1000) this.groups.clear(); // groups come and go: keep it bounded
    const local = this.registry.inGroup(group).map((c) => localStream(this.replica, c));
    const remote = this.remote.get(group);
    const streams = remote ? [...local, ...remote] : local;
    this.groups.set(group, { local: generation, remote: this.remoteChanges, streams });
    return streams;
  }

  isConnected(pid: string): boolean {
    return this.registry.hasId(pid) || (this.remotePids.get(pid) ?? 0) > 0;
  }

  all(): StreamRef[] {
    const local = this.registry.all().map((c) => localStream(this.replica, c));
    return [...local, ...[...this.remote.values()].flat()];
  }

  /** The other replicas' streams, replaced whole (a full read). */
  replaceRemote(streams: RemoteStream[]): void {
    this.remote = new Map();
    this.remotePids = new Map();
    this.remoteChanges++;
    for (const s of streams) this.addRemote(s);
  }

  addRemote(s: RemoteStream): void {
    if (s.replica === this.replica) return;
    this.removeRemote(s.replica, s.seq);
    const list = this.remote.get(s.group) ?? [];
    list.push({ replica: s.replica, seq: s.seq, group: s.group, id: s.pid, openedAt: s.openedAt });
    this.remote.set(s.group, list);
    this.remoteChanges++;
    this.remotePids.set(s.pid, (this.remotePids.get(s.pid) ?? 0) + 1);
  }

  /** Forgets one remote stream; returns its process id if it was known. */
  removeRemote(replica: string, seq: number): string | undefined {
    for (const [group, list] of this.remote) {
      const index = list.findIndex((s) => s.replica === replica && s.seq === seq);
      if (index < 0) continue;
      const [gone] = list.splice(index, 1);
      if (list.length === 0) this.remote.delete(group);
      this.remoteChanges++;
      const n = (this.remotePids.get(gone!.id) ?? 1) - 1;
      if (n > 0) this.remotePids.set(gone!.id, n);
      else this.remotePids.delete(gone!.id);
      return gone!.id;
    }
    return undefined;
  }

  /** Forgets every stream of a replica (it died or stopped); returns their process ids. */
  removeReplica(replica: string): string[] {
    const pids: string[] = [];
    for (const list of [...this.remote.values()]) {
      for (const s of list.filter((x) => x.replica === replica)) {
        const pid = this.removeRemote(s.replica, s.seq);
        if (pid !== undefined) pids.push(pid);
      }
    }
    return pids;
  }

  /** How many streams other replicas hold (for logs and tests). */
  get remoteCount(): number {
    let n = 0;
    for (const list of this.remote.values()) n += list.length;
    return n;
  }
}

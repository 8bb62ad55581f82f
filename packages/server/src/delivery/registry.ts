import type { PollConnection } from "./connection";

/**
 * The open poll streams of this server, by group (spec §7.3). Several streams may share a (group, id), e.g. a
 * reconnect racing the old stream's teardown: all stay registered and the oldest wins for `uni`.
 */
export class PollRegistry {
  private readonly groups = new Map<string, PollConnection[]>();
  private total = 0;
  private nextSeq = 1;
  private changes = 0;

  /** Moves on whenever a stream is added or removed: a view built at one generation is current until it moves. */
  get generation(): number {
    return this.changes;
  }

  get size(): number {
    return this.total;
  }

  newSeq(): number {
    return this.nextSeq++;
  }

  add(connection: PollConnection): void {
    const list = this.groups.get(connection.group) ?? [];
    list.push(connection);
    this.groups.set(connection.group, list);
    this.total++;
    this.changes++;
  }

  remove(connection: PollConnection): boolean {
    const list = this.groups.get(connection.group);
    const index = list?.indexOf(connection) ?? -1;
    if (!list || index < 0) return false;
    list.splice(index, 1);
    if (list.length === 0) this.groups.delete(connection.group);
    this.total--;
    this.changes++;
    return true;
  }

  /** Whether a stream with this (group, id) is open. */
  has(group: string, id: string): boolean {
    return this.groups.get(group)?.some((c) => c.id === id) ?? false;
  }

  /** Whether any stream, in any group, belongs to this process id. */
  hasId(id: string): boolean {
    for (const list of this.groups.values()) if (list.some((c) => c.id === id)) return true;
    return false;
  }

  /** The stream with this registration number, if it is still open. */
  bySeq(seq: number): PollConnection | undefined {
    for (const list of this.groups.values()) {
      const found = list.find((c) => c.seq === seq);
      if (found) return found;
    }
    return undefined;
  }

  withId(group: string, id: string): PollConnection[] {
    return this.groups.get(group)?.filter((c) => c.id === id) ?? [];
  }

  inGroup(group: string): PollConnection[] {
    return [...(this.groups.get(group) ?? [])];
  }

  all(): PollConnection[] {
    return [...this.groups.values()].flat();
  }
}

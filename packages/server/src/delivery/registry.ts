import type { Address } from "@resonate-compat/protocol";
import type { PollConnection } from "./connection";

type PollAddress = Extract<Address, { scheme: "poll" }>;

/**
 * The open poll streams by group (spec §7.3). Several streams may share a (group, id), e.g. a
 * reconnect racing the old stream's teardown: all stay registered and the oldest wins for `uni`.
 */
export class PollRegistry {
  private readonly groups = new Map<string, PollConnection[]>();
  private total = 0;
  private nextSeq = 1;

  constructor(private readonly random: () => number = Math.random) {}

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
  }

  remove(connection: PollConnection): boolean {
    const list = this.groups.get(connection.group);
    const index = list?.indexOf(connection) ?? -1;
    if (!list || index < 0) return false;
    list.splice(index, 1);
    if (list.length === 0) this.groups.delete(connection.group);
    this.total--;
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

  withId(group: string, id: string): PollConnection[] {
    return this.groups.get(group)?.filter((c) => c.id === id) ?? [];
  }

  inGroup(group: string): PollConnection[] {
    return [...(this.groups.get(group) ?? [])];
  }

  all(): PollConnection[] {
    return [...this.groups.values()].flat();
  }

  /**
   * The stream a message for `address` goes to, or undefined (dropped):
   * `uni@g/id` → the oldest stream with that id; `any@g/id` → that one if open, else any of the
   * group; `any@g` → any stream of the group. `choose` picks among the group (default: at random).
   */
  route(address: PollAddress, choose: (list: PollConnection[]) => PollConnection | undefined = (list) => this.pickRandom(list)): PollConnection | undefined {
    const list = this.groups.get(address.group);
    if (!list || list.length === 0) return undefined;
    if (address.id !== undefined) {
      const exact = list.find((c) => c.id === address.id);
      if (exact || address.cast === "uni") return exact;
    } else if (address.cast === "uni") {
      return undefined;
    }
    return choose(list);
  }

  private pickRandom(list: PollConnection[]): PollConnection | undefined {
    return list[Math.floor(this.random() * list.length)];
  }
}

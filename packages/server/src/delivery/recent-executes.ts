/**
 * Executes known to be on their way to a stream, by task, with when this replica learnt of them; an
 * entry counts only for its own version and for `memoryMs`. The dispatcher keeps two: those other
 * replicas forwarded to its streams, and those its own transactions claimed and have not delivered
 * yet. Its backlog passes leave both alone. Entries nobody removes (a claim whose transaction rolled
 * back) expire; `sweep` drops them.
 */
export class RecentExecutes {
  private readonly byTask = new Map<string, { version: number; at: number }>();

  constructor(private readonly memoryMs: number) {}

  get size(): number {
    return this.byTask.size;
  }

  note(taskId: string, version: number, now: number): void {
    this.byTask.set(taskId, { version, at: now });
  }

  has(taskId: string, version: number, now: number): boolean {
    const entry = this.byTask.get(taskId);
    return entry !== undefined && entry.version === version && entry.at >= now - this.memoryMs;
  }

  /** Forgets the task's entry (only the one for `version`, when given). */
  forget(taskId: string, version?: number): void {
    if (version === undefined || this.byTask.get(taskId)?.version === version) this.byTask.delete(taskId);
  }

  sweep(now: number): void {
    for (const [taskId, entry] of this.byTask) if (entry.at < now - this.memoryMs) this.byTask.delete(taskId);
  }
}

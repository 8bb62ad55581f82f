// What a transaction has written so far but keeps in memory until it commits, in the order written,
// undone to a mark when a savepoint rolls back. The pending outbox and the pending history events
// are both such logs.

export class TxLog<T> {
  protected entries: T[] = [];

  get size(): number {
    return this.entries.length;
  }

  push(item: T): void {
    this.entries.push(item);
  }

  /** A position to roll back to when a savepoint fails. */
  mark(): number {
    return this.entries.length;
  }

  rollbackTo(mark: number): void {
    this.entries.length = Math.min(mark, this.entries.length);
  }

  clear(): void {
    this.entries = [];
  }

  /** Takes everything logged, oldest first. */
  drain(): T[] {
    const entries = this.entries;
    this.entries = [];
    return entries;
  }
}

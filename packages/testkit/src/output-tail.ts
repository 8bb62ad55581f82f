/**
 * The last lines a service wrote, for error messages and for waiting on a log line. Output is
 * split into lines here so that a line cut across two chunks is seen whole.
 */
export class OutputTail {
  private readonly lines: string[] = [];
  private partial = "";
  private readonly listeners = new Set<(line: string) => void>();

  constructor(private readonly keep: number) {}

  push(chunk: Buffer): void {
    const parts = (this.partial + chunk.toString("utf8")).split("\n");
    this.partial = parts.pop() ?? "";
    for (const line of parts) {
      this.lines.push(line);
      if (this.lines.length > this.keep) this.lines.shift();
      for (const listener of this.listeners) listener(line);
    }
  }

  text(): string {
    return [...this.lines, this.partial].filter((line) => line !== "").join("\n");
  }

  subscribe(listener: (line: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

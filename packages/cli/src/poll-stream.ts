import type { PromiseRecord } from "@resonate-compat/protocol";
import type { ProtocolClient } from "./client";
import { unblockedPromise, unicastAddress } from "./wire";

// One SSE stream GET /poll/<group>/<pid> (spec §2.8), opened so that the server can push this
// process an `unblock` when a promise it listens to settles. No reconnects here: the caller decides
// what to do when `ended` resolves.

export class PollStream {
  /** The address to register as a listener: messages to it reach only this stream. */
  readonly address: string;
  /** Resolves when the stream ends, for whatever reason (server gone, closed by us). */
  readonly ended: Promise<void>;
  private markEnded!: () => void;
  private readonly abort = new AbortController();
  private isOpen = false;

  constructor(
    private readonly client: ProtocolClient,
    private readonly group: string,
    private readonly pid: string,
    private readonly onUnblock: (promise: PromiseRecord) => void,
  ) {
    this.address = unicastAddress(group, pid);
    this.ended = new Promise((resolve) => (this.markEnded = resolve));
    this.ended.then(() => (this.isOpen = false));
  }

  get open(): boolean {
    return this.isOpen;
  }

  /** Resolves once the server accepted the stream; rejects with the reason when it did not. */
  async connect(): Promise<void> {
    const url = `${this.client.baseUrl}/poll/${encodeURIComponent(this.group)}/${encodeURIComponent(this.pid)}`;
    let response: Response;
    try {
      response = await fetch(url, {
        headers: { accept: "text/event-stream", ...this.client.authHeaders() },
        signal: this.abort.signal,
      });
    } catch (error) {
      this.markEnded();
      throw error;
    }
    const type = response.headers.get("content-type") ?? "";
    if (response.status !== 200 || !type.startsWith("text/event-stream") || !response.body) {
      const text = (await response.text().catch(() => "")).trim();
      this.markEnded();
      throw new Error(`poll stream refused: HTTP ${response.status}${text ? ` ${text}` : ""}`);
    }
    this.isOpen = true;
    void this.pump(response.body.getReader());
  }

  close(): void {
    this.abort.abort();
    this.markEnded();
  }

  private async pump(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    let buffer = "";
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        buffer = this.dispatch((buffer + decoder.decode(value, { stream: true })).replace(/\r\n?/g, "\n"));
      }
    } catch {
      // aborted by close(), or the connection dropped: either way the stream is over
    } finally {
      this.markEnded();
    }
  }

  /** Hands over every complete event in `buffer` and returns the incomplete rest. */
  private dispatch(buffer: string): string {
    let end: number;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const event = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      // data lines joined by newlines; comment lines (": ping" keep-alives) and other fields ignored
      const data = event
        .split("\n")
        .filter((line) => line.startsWith("data:"))
        .map((line) => line.slice(line.startsWith("data: ") ? 6 : 5))
        .join("\n");
      // Only unblocks matter here; nothing else is sent to a stream that acquires no task.
      const promise = data === "" ? undefined : unblockedPromise(data);
      if (promise) this.onUnblock(promise);
    }
    return buffer;
  }
}

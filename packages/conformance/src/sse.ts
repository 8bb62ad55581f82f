// A minimal reader of the SSE endpoint GET /poll/{group}/{id} (spec §2.8): it keeps every message
// it receives so that checks can wait for one, and reports what the server answered on connect.
import type { Api } from "./api.js";

export interface StreamMessage {
  kind: string;
  head: Record<string, unknown>;
  data: any;
}

export class PollStream {
  readonly messages: StreamMessage[] = [];
  /** Raw `data:` payloads that were not JSON (a conformance failure in itself). */
  readonly garbage: string[] = [];
  status = 0;
  contentType = "";
  cacheControl = "";
  private readonly abort = new AbortController();
  private listeners = new Set<() => void>();

  private constructor(
    readonly group: string,
    readonly id: string,
  ) {}

  /** Opens the stream and resolves once the response head arrived (whatever its status). */
  static async open(api: Api, group: string, id: string): Promise<PollStream> {
    const s = new PollStream(group, id);
    const res = await fetch(`${api.url}/poll/${encodeURIComponent(group)}/${encodeURIComponent(id)}`, {
      headers: { accept: "text/event-stream", ...api.authHeaders() },
      signal: s.abort.signal,
    });
    s.status = res.status;
    s.contentType = res.headers.get("content-type") ?? "";
    s.cacheControl = res.headers.get("cache-control") ?? "";
    if (res.status === 200 && res.body) void s.pump(res.body.getReader());
    else await res.text().catch(() => "");
    return s;
  }

  /** The address under which this stream alone receives messages. */
  get unicast(): string {
    return `poll://uni@${this.group}/${this.id}`;
  }

  close(): void {
    this.abort.abort();
  }

  /** Waits for a message matching `pred` (already received or future). */
  waitFor(pred: (m: StreamMessage) => boolean, timeoutMs: number, what: string): Promise<StreamMessage> {
    return new Promise((resolve, reject) => {
      const probe = () => {
        const found = this.messages.find(pred);
        if (!found) return;
        done();
        resolve(found);
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`no ${what} on stream ${this.group}/${this.id} within ${timeoutMs} ms (received: ${this.messages.map((m) => m.kind).join(", ") || "nothing"})`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        this.listeners.delete(probe);
      };
      this.listeners.add(probe);
      probe();
    });
  }

  private async pump(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    let buffer = "";
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buffer += decoder.decode(value, { stream: true });
        // Events are separated by a blank line; comment lines (": ping") are keep-alives (C7).
        let end = buffer.indexOf("\n\n");
        while (end >= 0) {
          this.onEvent(buffer.slice(0, end));
          buffer = buffer.slice(end + 2);
          end = buffer.indexOf("\n\n");
        }
      }
    } catch {
      // aborted by close() or the server went away: the messages received so far stay readable
    }
  }

  private onEvent(block: string): void {
    const data = block
      .split("\n")
      .filter((l) => l.startsWith("data:"))
      .map((l) => l.slice(5).replace(/^ /, ""))
      .join("\n");
    if (!data) return;
    try {
      this.messages.push(JSON.parse(data) as StreamMessage);
    } catch {
      this.garbage.push(data);
    }
    for (const l of [...this.listeners]) l();
  }
}

import { authHeaders } from "./client";
import { refused } from "./token";
import type { Overview } from "./types";

// The overview as the server pushes it (GET /admin/overview/stream, server-sent events). Read with
// fetch rather than EventSource, which cannot send the Authorization header. When the stream drops
// (a server restart, a replica gone behind the proxy) it reconnects after a pause.

const RECONNECT_MS = 2000;

export type StreamStatus = "connecting" | "live" | "reconnecting" | "refused";

export function watchOverview(onOverview: (overview: Overview) => void, onStatus: (status: StreamStatus) => void): () => void {
  const abort = new AbortController();
  let retry: ReturnType<typeof setTimeout> | undefined;

  const connect = async () => {
    try {
      const response = await fetch("/admin/overview/stream", { headers: authHeaders(), signal: abort.signal });
      if (response.status === 401 || response.status === 403) {
        refused(response.status, await response.text());
        onStatus("refused");
        return;
      }
      if (!response.ok || !response.body) throw new Error(`status ${response.status}`);
      onStatus("live");
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let end: number;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const overview = parseEvent(buffer.slice(0, end));
          buffer = buffer.slice(end + 2);
          if (overview) onOverview(overview);
        }
      }
    } catch {
      if (abort.signal.aborted) return;
    }
    if (abort.signal.aborted) return;
    onStatus("reconnecting");
    retry = setTimeout(() => void connect(), RECONNECT_MS);
  };

  onStatus("connecting");
  void connect();
  return () => {
    abort.abort();
    clearTimeout(retry);
  };
}

/** One event block; the overview when it is an `overview` event. */
function parseEvent(block: string): Overview | undefined {
  let event = "message";
  const data: string[] = [];
  for (const line of block.split("\n")) {
    if (line.startsWith("event:")) event = line.slice(6).trim();
    else if (line.startsWith("data:")) data.push(line.slice(5).trimStart());
  }
  if (event !== "overview" || data.length === 0) return undefined;
  return JSON.parse(data.join("\n")) as Overview;
}

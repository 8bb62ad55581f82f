import { request } from "node:http";

export interface StreamEvent {
  data: string;
  /** performance.now() when it arrived. */
  at: number;
}

export interface EventStream {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** The next event not yet taken; rejects after timeoutMs or if the stream ends first. */
  next(timeoutMs?: number): Promise<StreamEvent>;
  /** Resolves when the stream ends or breaks. */
  closed: Promise<void>;
  close(): void;
}

/**
 * Opens GET url as an event stream and resolves once the response headers have arrived (so a
 * proxy that held them back would show here). A minimal parser: `data:` lines, comments ignored.
 */
export function openEventStream(url: string): Promise<EventStream> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { accept: "text/event-stream" } }, (response) => {
      const events: StreamEvent[] = [];
      const waiters: Array<() => void> = [];
      let ended = false;
      let buffered = "";
      let data: string[] = [];
      const wake = () => waiters.splice(0).forEach((waiter) => waiter());
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => {
        buffered += chunk;
        let newline: number;
        while ((newline = buffered.indexOf("\n")) >= 0) {
          const line = buffered.slice(0, newline).replace(/\r$/, "");
          buffered = buffered.slice(newline + 1);
          if (line === "") {
            if (data.length > 0) events.push({ data: data.join("\n"), at: performance.now() });
            data = [];
          } else if (line.startsWith("data:")) {
            data.push(line.slice(5).replace(/^ /, ""));
          }
        }
        wake();
      });
      const closed = new Promise<void>((done) => {
        const end = () => {
          ended = true;
          wake();
          done();
        };
        response.on("close", end);
        response.on("error", end);
      });
      resolve({
        status: response.statusCode ?? 0,
        headers: response.headers,
        closed,
        close: () => req.destroy(),
        next(timeoutMs = 5000) {
          return new Promise((ok, fail) => {
            const timer = setTimeout(() => fail(new Error(`no event within ${timeoutMs} ms`)), timeoutMs);
            const check = () => {
              const event = events.shift();
              if (event) {
                clearTimeout(timer);
                ok(event);
              } else if (ended) {
                clearTimeout(timer);
                fail(new Error("the stream ended"));
              } else {
                waiters.push(check);
              }
            };
            check();
          });
        },
      });
    });
    req.on("error", reject);
    req.end();
  });
}

import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { PROTOCOL_VERSION, type RequestEnvelope } from "@resonate-compat/protocol";

// A small scriptable stand-in for the server, on a real socket (port 0): tests decide the answer
// to each request kind and push SSE messages to connected streams. Not a model of the protocol.

export type Reply = { status: number; data: unknown } | { raw: number; body: string; contentType?: string } | "hang";
export type Handler = (request: RequestEnvelope, index: number) => Reply | Promise<Reply>;

export interface FakeStream {
  group: string;
  pid: string;
  headers: IncomingMessage["headers"];
  res: ServerResponse;
}

export interface FakeServer {
  url: string;
  /** Every envelope received, in order. */
  requests: RequestEnvelope[];
  /** Headers of every POST, in order. */
  requestHeaders: IncomingMessage["headers"][];
  /** Open poll streams. */
  streams: FakeStream[];
  /** Every poll attempt (including refused ones), with its time. */
  pollAttempts: { group: string; pid: string; at: number; headers: IncomingMessage["headers"] }[];
  on(kind: string, handler: Handler): void;
  /** Answer GET /poll with this status instead of a stream (until set back to 200). */
  pollStatus: number;
  /** Answer GET /poll with 200 and a plain web page instead of a stream (until set back to false). */
  pollHtml: boolean;
  push(message: unknown, pid?: string): void;
  /** Ends every open stream (the client sees the connection drop). */
  dropStreams(): void;
  waitFor(predicate: () => boolean, timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

export async function startFakeServer(): Promise<FakeServer> {
  const handlers = new Map<string, Handler>();
  const counts = new Map<string, number>();
  const hanging: ServerResponse[] = [];
  const fake: FakeServer = {
    url: "",
    requests: [],
    requestHeaders: [],
    streams: [],
    pollAttempts: [],
    pollStatus: 200,
    pollHtml: false,
    on: (kind, handler) => void handlers.set(kind, handler),
    push(message, pid) {
      for (const s of fake.streams) if (pid === undefined || s.pid === pid) s.res.write(`data: ${JSON.stringify(message)}\n\n`);
    },
    dropStreams() {
      for (const s of fake.streams.splice(0)) s.res.destroy();
    },
    waitFor: (predicate, timeoutMs = 5_000) => waitFor(predicate, timeoutMs),
    close: async () => {
      fake.dropStreams();
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };

  const server = createServer((req, res) => {
    const poll = /^\/poll\/([^/]+)\/([^/]+)$/.exec(req.url ?? "");
    if (req.method === "GET" && poll) {
      const group = decodeURIComponent(poll[1]!);
      const pid = decodeURIComponent(poll[2]!);
      fake.pollAttempts.push({ group, pid, at: Date.now(), headers: req.headers });
      if (fake.pollStatus !== 200) {
        res.writeHead(fake.pollStatus, { "Content-Type": "text/plain" }).end("no");
        return;
      }
      if (fake.pollHtml) {
        res.writeHead(200, { "Content-Type": "text/html" }).end("<html>not a Resonate server</html>");
        return;
      }
      res.writeHead(200, { "Content-Type": "text/event-stream", "Cache-Control": "no-cache" });
      res.flushHeaders();
      const stream = { group, pid, headers: req.headers, res };
      fake.streams.push(stream);
      req.on("close", () => {
        const i = fake.streams.indexOf(stream);
        if (i >= 0) fake.streams.splice(i, 1);
      });
      return;
    }
    if (req.method !== "POST") {
      res.writeHead(404).end();
      return;
    }
    let body = "";
    req.on("data", (chunk: Buffer) => (body += chunk.toString("utf8")));
    req.on("end", () => {
      void (async () => {
        const envelope = JSON.parse(body) as RequestEnvelope;
        fake.requests.push(envelope);
        fake.requestHeaders.push(req.headers);
        const index = counts.get(envelope.kind) ?? 0;
        counts.set(envelope.kind, index + 1);
        const handler = handlers.get(envelope.kind);
        const reply: Reply = handler ? await handler(envelope, index) : { status: 200, data: {} };
        if (reply === "hang") {
          hanging.push(res);
          return;
        }
        if ("raw" in reply) {
          res.writeHead(reply.raw, { "Content-Type": reply.contentType ?? "text/plain" }).end(reply.body);
          return;
        }
        const answer = { kind: envelope.kind, head: { corrId: envelope.head.corrId, status: reply.status, version: PROTOCOL_VERSION }, data: reply.data };
        res.writeHead(reply.status, { "Content-Type": "application/json" }).end(JSON.stringify(answer));
      })();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return fake;
}

export async function waitFor(predicate: () => boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A pending promise record as the server would return it. */
export function promiseRecord(id: string, overrides: Record<string, unknown> = {}) {
  return { id, state: "pending", param: {}, value: {}, tags: {}, timeoutAt: 2_000_000_000_000, createdAt: 1_767_225_600_000, ...overrides };
}

export const silentLogger = { debug() {}, info() {}, warn() {}, error() {} };

import { Agent as HttpAgent, type ClientRequest, type OutgoingHttpHeaders, request as httpRequest, type RequestOptions } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import type { Duplex } from "node:stream";
import { urlToHttpOptions } from "node:url";

// One POST at a time to a fixed url over node:http(s), through one keep-alive agent with a bounded
// pool: at most `maxConnections` sockets are open; further requests wait in the agent's queue until
// one is free. (Global fetch/undici cost most of a worker's CPU and opened one socket per request in
// flight under load.) The HttpClient above decides what an answer means; this only moves bytes.

export interface PostAnswer {
  status: number;
  /** The Content-Type header, "" when there is none. */
  contentType: string;
  /** The body, decoded as UTF-8. */
  text: string;
  /** The body already parsed, when the transport had to parse it anyway (the channel, to route answers). */
  json?: unknown;
}

/**
 * How HttpClient moves one request envelope and its answer: this file's pool of HTTP connections,
 * or the channel (channel-transport.ts). `corrId` is the envelope's head.corrId, for a transport that
 * matches answers to requests itself.
 */
export interface Transport {
  post(body: string, headers: OutgoingHttpHeaders, timeoutMs: number, corrId: string): Promise<PostAnswer>;
  /** Fails what is in flight with a TransportClosedError and every later post at once. Idempotent. */
  close(): void;
}

/** No complete answer within the per-request timeout (time queued for a socket included). */
export class RequestTimeoutError extends Error {
  constructor(readonly timeoutMs: number) {
    super(`no answer within ${timeoutMs} ms`);
    this.name = "RequestTimeoutError";
  }
}

/** The transport was closed: before the request started, or while it was in flight. */
export class TransportClosedError extends Error {
  constructor() {
    super("the transport was closed");
    this.name = "TransportClosedError";
  }
}

export class HttpTransport implements Transport {
  private readonly agent: HttpAgent;
  private readonly send: typeof httpRequest;
  /** Host, port, path and agent of every request; only the headers differ. */
  private readonly base: RequestOptions;
  /** How to fail each request in flight (queued for a socket or not), for close(). */
  private readonly inFlight = new Set<(err: Error) => void>();
  private closed = false;

  constructor(url: string, maxConnections: number) {
    const target = new URL(url);
    const https = target.protocol === "https:";
    // lifo: under light load the most recently used socket is taken, and the others idle out.
    const agentOptions = { keepAlive: true, maxSockets: maxConnections, scheduling: "lifo" as const };
    this.agent = https ? new HttpsAgent(agentOptions) : new HttpAgent(agentOptions);
    this.send = https ? httpsRequest : httpRequest;
    // After close() the agent must not connect again: when a busy socket closes, it opens a new one
    // for the first request still in its queue, even one that was destroyed while waiting there.
    const connect = this.agent.createConnection.bind(this.agent);
    this.agent.createConnection = (options, callback) => {
      if (!this.closed) return connect(options, callback);
      callback?.(new TransportClosedError(), null as unknown as Duplex);
      return undefined;
    };
    this.base = { ...urlToHttpOptions(target), method: "POST", agent: this.agent };
  }

  /**
   * POSTs `body` and resolves with the whole answer, whatever its status. Rejects with a
   * RequestTimeoutError after `timeoutMs`, a TransportClosedError after close(), or the socket's
   * error (e.g. "connect ECONNREFUSED 127.0.0.1:1"); the request is then destroyed.
   */
  post(body: string, headers: OutgoingHttpHeaders, timeoutMs: number): Promise<PostAnswer> {
    if (this.closed) return Promise.reject(new TransportClosedError());
    return new Promise<PostAnswer>((resolve, reject) => {
      const req: ClientRequest = this.send({ ...this.base, headers: { ...headers, "Content-Length": Buffer.byteLength(body) } });
      let done = false;
      const fail = (err: Error): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        this.inFlight.delete(fail);
        req.destroy(); // frees its socket (or its place in the agent's queue)
        reject(err);
      };
      // The timer starts now, so it also covers the time spent waiting for a free socket.
      const timer = setTimeout(() => fail(new RequestTimeoutError(timeoutMs)), timeoutMs);
      this.inFlight.add(fail);

      req.on("error", fail); // stays attached: a destroyed request may still report an error
      req.on("response", (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("error", fail);
        res.on("close", () => {
          if (!res.complete) fail(new Error("the connection closed before the answer was complete"));
        });
        res.on("end", () => {
          if (done) return;
          done = true;
          clearTimeout(timer);
          this.inFlight.delete(fail);
          const contentType = res.headers["content-type"] ?? "";
          resolve({ status: res.statusCode ?? 0, contentType, text: Buffer.concat(chunks).toString("utf8") });
        });
      });
      req.end(body);
    });
  }

  /**
   * Fails every request in flight with a TransportClosedError, makes later posts fail at once, and
   * destroys the agent's sockets (busy and idle) so nothing keeps the process alive. Idempotent.
   */
  close(): void {
    this.closed = true;
    const err = new TransportClosedError();
    for (const fail of [...this.inFlight]) fail(err);
    this.agent.destroy();
  }
}

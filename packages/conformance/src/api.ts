// The kit's only way to talk to a server: protocol envelopes POSTed to `/` (spec §2.2–2.5) and
// plain HTTP requests for the rest of the surface. Nothing here knows how a server is built.
import net from "node:net";
import tls from "node:tls";
import { PROTOCOL_VERSION } from "@resonate-compat/protocol";

/** One envelope response, with what the HTTP layer said next to what the envelope says. */
export interface Reply {
  httpStatus: number;
  contentType: string;
  /** head.status (NaN when the body is not an envelope). */
  status: number;
  kind: unknown;
  corrId: unknown;
  version: unknown;
  head: Record<string, unknown>;
  data: any;
  /** The parsed body (or the raw text when it is not JSON). */
  body: any;
  headers: Headers;
}

export interface CallOptions {
  /** head["resonate:debug_time"]: fixes `now` for this request on a server in debug mode. */
  time?: number;
  /** Extra head fields (merged over the defaults). */
  head?: Record<string, unknown>;
  corrId?: string;
}

let corrCounter = 0;

export class Api {
  constructor(
    readonly url: string,
    private readonly token: string | undefined,
    private readonly requestTimeoutMs = 15_000,
  ) {}

  /** Headers for non-envelope requests (SSE): the token travels as a Bearer header there (§2.8). */
  authHeaders(): Record<string, string> {
    return this.token ? { authorization: `Bearer ${this.token}` } : {};
  }

  /** The JSON text of a well-formed envelope (with the token, if any), for checks that post it raw. */
  envelope(kind: string, data: unknown, opts: CallOptions = {}): string {
    const head: Record<string, unknown> = { corrId: opts.corrId ?? `conf-${++corrCounter}`, version: PROTOCOL_VERSION };
    if (this.token) head.auth = this.token;
    if (opts.time !== undefined) head["resonate:debug_time"] = opts.time;
    Object.assign(head, opts.head ?? {});
    return JSON.stringify({ kind, head, data });
  }

  /** POST one well-formed envelope. */
  async call(kind: string, data: unknown, opts: CallOptions = {}): Promise<Reply> {
    return this.post(this.envelope(kind, data, opts));
  }

  /** A view of this client whose every envelope carries `resonate:debug_time = time`. */
  at(time: number): Pick<Api, "call"> {
    return { call: (kind, data, opts = {}) => this.call(kind, data, { time, ...opts }) };
  }

  /** POST an arbitrary body to `/` (for malformed-envelope checks). `contentType: null` sends none. */
  async post(body: string, contentType: string | null = "application/json"): Promise<Reply> {
    const headers: Record<string, string> = {};
    if (contentType !== null) headers["content-type"] = contentType;
    const res = await fetch(`${this.url}/`, { method: "POST", headers, body, signal: AbortSignal.timeout(this.requestTimeoutMs) });
    return toReply(res);
  }

  /**
   * POST a body the server is expected to refuse early (413) and return the HTTP status. A server
   * (or a proxy) may answer and close before the body is written; Node's HTTP client then reports
   * the write error and drops the answer. A raw socket reads the status line whatever happens to the
   * write, as curl does. Even so, a server that closes at once with our bytes unread makes its kernel
   * reset the connection, which can discard the answer on our side: then `status` is undefined and
   * `cut` says whether the body had been refused before it was all sent.
   */
  postForStatus(body: string): Promise<{ status?: number; cut: boolean }> {
    const u = new URL(`${this.url}/`);
    const port = Number(u.port || (u.protocol === "https:" ? 443 : 80));
    return new Promise((resolve, reject) => {
      const socket = u.protocol === "https:" ? tls.connect({ host: u.hostname, port, servername: u.hostname }) : net.connect({ host: u.hostname, port });
      let answer = "";
      const head = `POST ${u.pathname} HTTP/1.1\r\nHost: ${u.host}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n`;
      const data = Buffer.from(head + body);
      let offset = 0;
      const timer = setTimeout(() => socket.destroy(new Error(`no answer within ${this.requestTimeoutMs} ms`)), this.requestTimeoutMs);
      const finish = () => {
        clearTimeout(timer);
        const m = /^HTTP\/1\.[01] (\d{3})/.exec(answer);
        const cut = offset < data.length;
        if (m) resolve({ status: Number(m[1]), cut });
        else if (answer === "") resolve({ cut });
        else reject(new Error(`not an HTTP answer: ${JSON.stringify(answer.slice(0, 80))}`));
        socket.destroy();
      };
      socket.setEncoding("utf8");
      socket.on("data", (c: string) => {
        answer += c;
        if (answer.includes("\r\n")) finish();
      });
      socket.on("error", () => undefined); // EPIPE/ECONNRESET while writing: the answer decides
      socket.on("close", finish);
      // Like curl: send in chunks and stop as soon as the answer starts.
      const pump = () => {
        while (offset < data.length && answer === "" && !socket.destroyed) {
          const chunk = data.subarray(offset, offset + 64 * 1024);
          offset += chunk.length;
          if (!socket.write(chunk)) {
            socket.once("drain", pump);
            return;
          }
        }
      };
      socket.once("connect", pump);
      socket.once("secureConnect", pump);
    });
  }

  /** Any other HTTP request (GET /health, legacy paths, …), body as text. */
  async http(method: string, path: string): Promise<{ status: number; contentType: string; text: string }> {
    const res = await fetch(`${this.url}${path}`, { method, headers: this.authHeaders(), signal: AbortSignal.timeout(this.requestTimeoutMs) });
    return { status: res.status, contentType: res.headers.get("content-type") ?? "", text: await res.text() };
  }
}

async function toReply(res: Response): Promise<Reply> {
  const text = await res.text();
  let body: any = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: the checks say so through the fields below
  }
  const env = body !== null && typeof body === "object" ? body : {};
  const head = env.head !== null && typeof env.head === "object" ? env.head : {};
  return {
    httpStatus: res.status,
    contentType: res.headers.get("content-type") ?? "",
    status: typeof head.status === "number" ? head.status : Number.NaN,
    kind: env.kind,
    corrId: head.corrId,
    version: head.version,
    head,
    data: env.data,
    body,
    headers: res.headers,
  };
}

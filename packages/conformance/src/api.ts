// The kit's only way to talk to a server: protocol envelopes POSTed to `/` (spec §2.2–2.5) and
// plain HTTP requests for the rest of the surface. Nothing here knows how a server is built.
import http from "node:http";
import https from "node:https";
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

  /** POST one well-formed envelope. */
  async call(kind: string, data: unknown, opts: CallOptions = {}): Promise<Reply> {
    const head: Record<string, unknown> = { corrId: opts.corrId ?? `conf-${++corrCounter}`, version: PROTOCOL_VERSION };
    if (this.token) head.auth = this.token;
    if (opts.time !== undefined) head["resonate:debug_time"] = opts.time;
    Object.assign(head, opts.head ?? {});
    return this.post(JSON.stringify({ kind, head, data }));
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
   * POST a body the server is expected to refuse early (413): the server may answer and close
   * before the body is written, which fetch reports as a failed request (EPIPE) without the status.
   * Here the answer wins over write errors.
   */
  postForStatus(body: string): Promise<number> {
    return new Promise((resolve, reject) => {
      const transport = this.url.startsWith("https:") ? https : http;
      const req = transport.request(`${this.url}/`, { method: "POST", headers: { "content-type": "application/json" }, timeout: this.requestTimeoutMs });
      let answered = false;
      req.on("response", (res) => {
        answered = true;
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on("error", (e) => {
        // a write error after (or just before) the answer: give the answer a moment to arrive
        setTimeout(() => (answered ? undefined : reject(e)), 500);
      });
      req.on("timeout", () => req.destroy(new Error("timeout")));
      req.end(body);
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

import { randomUUID } from "node:crypto";
import type { ResponseData } from "@resonate-compat/protocol";
import { ServerError, UnreachableError, UsageError } from "./errors";
import { PROTOCOL_VERSION } from "./wire";

// The one way the CLI talks to a server: HTTP requests with the token attached, answers turned into
// data or into a CliError that says what happened in one line. Protocol operations are envelopes
// posted to `/` (spec §2.2); the token travels in head.auth and as a Bearer header, as the SDKs
// and the reference CLI send it (spec §10).

/** How long one request may take before the server counts as unreachable. */
const REQUEST_TIMEOUT_MS = 30_000;

export type OperationKind = keyof ResponseData;

export interface Answer<K extends OperationKind> {
  /** head.status: 200, or another status the caller listed in `accept` (300 for task.suspend). */
  status: number;
  data: ResponseData[K];
}

export class ProtocolClient {
  /** The server's base URL without a trailing slash. */
  readonly baseUrl: string;

  constructor(
    server: string,
    readonly token: string | undefined,
  ) {
    let url: URL;
    try {
      url = new URL(server);
    } catch {
      throw new UsageError(`--server '${server}' is not a URL (e.g. http://localhost:8001)`);
    }
    if (url.protocol !== "http:" && url.protocol !== "https:") {
      throw new UsageError(`--server '${server}' must be an http:// or https:// URL`);
    }
    this.baseUrl = server.replace(/\/+$/, "");
  }

  /** Headers every request carries: the token, when there is one. */
  authHeaders(): Record<string, string> {
    return this.token ? { authorization: `Bearer ${this.token}` } : {};
  }

  /** Posts one envelope and returns its data; error statuses throw ServerError. */
  async call<K extends OperationKind>(kind: K, data: object, accept: readonly number[] = [200]): Promise<Answer<K>> {
    const head: Record<string, unknown> = { corrId: randomUUID(), version: PROTOCOL_VERSION };
    if (this.token) head["auth"] = this.token;
    const { status: httpStatus, text } = await this.send("POST", "/", JSON.stringify({ kind, head, data }));

    const envelope = parseEnvelope(text);
    if (!envelope) {
      // A body limit refusal is the server's own plain-text answer, not a missing server.
      if (httpStatus === 413) throw new ServerError(413, "request body too large for the server");
      throw new UnreachableError(
        `${this.baseUrl}/ answered HTTP ${httpStatus} without a protocol envelope; is it a Resonate server?`,
      );
    }
    if (accept.includes(envelope.status)) return { status: envelope.status, data: envelope.data as ResponseData[K] };
    const message = typeof envelope.data === "string" ? envelope.data : JSON.stringify(envelope.data);
    throw new ServerError(envelope.status, message);
  }

  /**
   * GET on the server's admin API (/admin/…, our server's own, not the protocol): the parsed JSON,
   * or a ServerError with the server's message.
   */
  async admin<T>(path: string, query: Record<string, string | undefined> = {}): Promise<T> {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(query)) if (value !== undefined) params.set(key, value);
    const search = params.size > 0 ? `?${params}` : "";
    const { status, text } = await this.send("GET", `/admin/${path}${search}`);
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    if (status === 200 && body !== undefined) return body as T;
    const error = (body as { error?: unknown } | undefined)?.error;
    if (typeof error === "string") throw new ServerError(status, error);
    if (status === 404) throw new ServerError(404, `${this.baseUrl} has no admin API (it is resonate-compat's own, not the reference server's)`);
    throw new UnreachableError(`${this.baseUrl}/admin/${path} answered HTTP ${status} without JSON; is it a resonate-compat server?`);
  }

  /** One HTTP exchange; network failures and timeouts become UnreachableError. */
  private async send(method: string, path: string, body?: string): Promise<{ status: number; text: string }> {
    const url = `${this.baseUrl}${path}`;
    try {
      const response = await fetch(url, {
        method,
        headers: { ...(body === undefined ? {} : { "content-type": "application/json" }), ...this.authHeaders() },
        body,
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      return { status: response.status, text: await response.text() };
    } catch (error) {
      throw new UnreachableError(`cannot reach the server at ${this.baseUrl}: ${describeNetworkError(error)}`);
    }
  }
}

function parseEnvelope(text: string): { status: number; data: unknown } | undefined {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof body !== "object" || body === null) return undefined;
  const head = (body as { head?: unknown }).head;
  if (typeof head !== "object" || head === null) return undefined;
  const status = (head as { status?: unknown }).status;
  if (typeof status !== "number") return undefined;
  return { status, data: (body as { data?: unknown }).data };
}

/** fetch hides the reason in error.cause; say it in words. */
export function describeNetworkError(error: unknown): string {
  const err = error as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (err.name === "TimeoutError") return `no answer within ${REQUEST_TIMEOUT_MS / 1000}s`;
  const code = err.cause?.code;
  const reasons: Record<string, string> = {
    ECONNREFUSED: "connection refused (is the server running?)",
    ENOTFOUND: "host not found",
    EAI_AGAIN: "host name lookup failed",
    ECONNRESET: "connection reset",
    ETIMEDOUT: "connection timed out",
    EHOSTUNREACH: "host unreachable",
  };
  if (code && reasons[code]) return reasons[code];
  return err.cause?.message ?? err.message ?? String(error);
}

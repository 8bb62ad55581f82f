import { randomUUID } from "node:crypto";
import {
  PROTOCOL_STATUSES,
  PROTOCOL_VERSION,
  type Kind,
  type KindResponse,
  type RequestData,
  type RequestEnvelope,
  type ResponseEnvelope,
} from "@resonate-compat/protocol";
import { Backoff } from "./backoff";
import { type Clock, sleep } from "./clock";
import { ResonateError, ResonateUnreachableError } from "./errors";
import { HttpTransport, type PostAnswer, RequestTimeoutError, type Transport } from "./http-transport";
import { errorText, type Logger } from "./logger";

// Sends one protocol envelope to POST {url} and returns the server's answer.
//
// A protocol status (200, 300, 404, 409, 422, 501: the set the official SDK reads) is an answer and
// is returned as is; the caller decides what it means. Anything else is a "platform failure", like in
// the official SDK: network errors, the request timeout, 5xx/429, a response that is not our
// envelope. Transient ones are retried with exponential back-off; after the last attempt (or at once
// for a deterministic refusal such as 400/401/403/413, which the same request cannot change) the
// call fails with a ResonateUnreachableError naming the url.
//
// Requests go over a small pool of keep-alive connections (see HttpTransport and `maxConnections`),
// or over the channel when one is given (`transport`, see channel-transport.ts).

export interface RetryPolicy {
  /** Attempts in total, including the first. */
  attempts: number;
  /** First back-off delay in ms; it doubles up to `maxDelay`. */
  initialDelay: number;
  maxDelay: number;
}

export const DEFAULT_MAX_CONNECTIONS = 32;

export const DEFAULT_RETRY: RetryPolicy = { attempts: 4, initialDelay: 1_000, maxDelay: 30_000 };

export interface HttpClientOptions {
  url: string;
  token?: string | undefined;
  /** Per-attempt timeout in ms (official SDK default: 10 s); it includes the time queued for a connection. */
  requestTimeout?: number;
  /**
   * Most connections open to the server at once (default 32). They are kept alive and reused; when all
   * are busy, further requests queue in the client instead of each opening its own socket (under load
   * that used to mean hundreds or thousands of sockets, and a connect per request).
   */
  maxConnections?: number;
  /** Carries the requests instead of the pool of connections (the channel); `maxConnections` is then unused. */
  transport?: Transport;
  retry?: RetryPolicy;
  clock: Clock;
  logger: Logger;
}

export interface Answer<K extends Kind> {
  status: number;
  /** The success payload on 200/300, the server's message (a string) on every other status. */
  data: KindResponse<K> | string;
}

export class HttpClient {
  readonly url: string;
  private readonly token: string | undefined;
  private readonly requestTimeout: number;
  private readonly retry: RetryPolicy;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly transport: Transport;
  /** Aborted by stop(): cuts pending retries (stop() also closes the transport, which cuts in-flight requests). */
  private readonly stopping = new AbortController();

  constructor(options: HttpClientOptions) {
    this.url = options.url;
    this.token = options.token;
    this.requestTimeout = options.requestTimeout ?? 10_000;
    this.retry = options.retry ?? DEFAULT_RETRY;
    this.clock = options.clock;
    this.logger = options.logger;
    // Validated with the rest of the options (config.ts).
    this.transport = options.transport ?? new HttpTransport(this.url, options.maxConnections ?? DEFAULT_MAX_CONNECTIONS);
  }

  /** Sends `kind` and returns the protocol answer, whatever its status. */
  async send<K extends Kind>(kind: K, data: RequestData<K>, retry: Partial<RetryPolicy> = {}): Promise<Answer<K>> {
    const policy = { ...this.retry, ...retry };
    const backoff = new Backoff({ initial: policy.initialDelay, max: policy.maxDelay });
    let last: Failure = { reason: "the SDK was stopped", retriable: false };
    let made = 0;
    for (let attempt = 1; attempt <= policy.attempts && !this.stopping.signal.aborted; attempt++) {
      made = attempt;
      const outcome = await this.attempt(kind, data);
      if ("answer" in outcome) return outcome.answer;
      last = outcome;
      if (this.stopping.signal.aborted) break;
      this.logger.warn({ kind, url: this.url, attempt, reason: outcome.reason }, "request failed");
      if (!outcome.retriable || attempt === policy.attempts) {
        throw new ResonateUnreachableError(this.url, kind, attempt, outcome.reason, outcome.httpStatus, { cause: outcome.cause });
      }
      await sleep(this.clock, backoff.next(), this.stopping.signal);
    }
    throw new ResonateUnreachableError(this.url, kind, made, last.reason, last.httpStatus, { cause: last.cause });
  }

  /** Sends `kind` and returns the 200 payload; any other protocol status throws a ResonateError. */
  async ok<K extends Kind>(kind: K, data: RequestData<K>, retry?: Partial<RetryPolicy>): Promise<KindResponse<K>> {
    const answer = await this.send(kind, data, retry);
    if (answer.status !== 200) throw new ResonateError(kind, answer.status, messageOf(answer.data));
    return answer.data as KindResponse<K>;
  }

  /** Ends all requests: in-flight ones are aborted, retries stop, later calls fail at once. */
  stop(): void {
    this.stopping.abort();
    this.transport.close();
  }

  private async attempt<K extends Kind>(kind: K, data: RequestData<K>): Promise<{ answer: Answer<K> } | Failure> {
    const corrId = randomUUID();
    const envelope: RequestEnvelope = { kind, head: { corrId, version: PROTOCOL_VERSION }, data };
    const headers: Record<string, string> = { "Content-Type": "application/json" };
    if (this.token !== undefined) {
      // The server reads head.auth on POST /; the header is what proxies and the poll route look at.
      envelope.head.auth = this.token;
      headers.Authorization = `Bearer ${this.token}`;
    }

    // The transport enforces the timeout (queue time included) and fails in-flight requests on stop().
    let response: PostAnswer;
    try {
      response = await this.transport.post(JSON.stringify(envelope), headers, this.requestTimeout, corrId);
    } catch (err) {
      if (this.stopping.signal.aborted) return { reason: "the SDK was stopped", retriable: false, cause: err };
      const reason = err instanceof RequestTimeoutError ? err.message : networkReason(err);
      return { reason, retriable: true, cause: err };
    }

    const { status, text } = response;
    const isJson = response.contentType.includes("application/json");
    if (!PROTOCOL_STATUSES.has(status)) {
      const retriable = status >= 500 || status === 429 || status === 408;
      const message = isJson ? messageOfBody(text) : undefined;
      return { reason: `HTTP ${status}${message ? `: ${message}` : ""}`, retriable, httpStatus: status };
    }
    if (status === 404 && !isJson) {
      // A plain 404 means the url does not point at a protocol endpoint (an old server, a wrong path).
      return { reason: "HTTP 404 without a JSON envelope: is this url a Resonate server (protocol 2026-04-01)?", retriable: false, httpStatus: status };
    }
    let parsed = response.json;
    if (parsed === undefined) {
      try {
        parsed = JSON.parse(text);
      } catch {
        return { reason: `HTTP ${status} with a body that is not JSON`, retriable: true, httpStatus: status };
      }
    }
    if (!isEnvelope(parsed) || parsed.kind !== kind || parsed.head.corrId !== corrId) {
      return { reason: `HTTP ${status} with a response that does not match the request`, retriable: true, httpStatus: status };
    }
    return { answer: { status: parsed.head.status, data: parsed.data as KindResponse<K> | string } };
  }
}

interface Failure {
  reason: string;
  retriable: boolean;
  httpStatus?: number;
  cause?: unknown;
}

function isEnvelope(v: unknown): v is ResponseEnvelope {
  if (typeof v !== "object" || v === null) return false;
  const e = v as { kind?: unknown; head?: { corrId?: unknown; status?: unknown } };
  return typeof e.kind === "string" && typeof e.head === "object" && e.head !== null &&
    typeof e.head.corrId === "string" && typeof e.head.status === "number" && "data" in e;
}

/** Error answers carry the server's message as a string in `data`. */
export function messageOf(data: unknown): string {
  return typeof data === "string" ? data : JSON.stringify(data);
}

function messageOfBody(text: string): string | undefined {
  try {
    const body = JSON.parse(text) as { data?: unknown; error?: unknown };
    if (typeof body.data === "string") return body.data;
    if (typeof body.error === "string") return body.error;
  } catch {
    // not JSON after all: the status alone will do
  }
  return undefined;
}

/**
 * The useful part of a network error. node:http puts it in the message ("connect ECONNREFUSED
 * 127.0.0.1:1"), except for an AggregateError (each address of a host name was tried and failed):
 * its message is empty and the attempts are in `errors`.
 */
function networkReason(err: unknown): string {
  if (err instanceof AggregateError && err.message === "" && err.errors.length > 0) return err.errors.map(networkReason).join("; ");
  const code = (err as { code?: unknown } | null)?.code;
  if (err instanceof Error && err.message === "" && typeof code === "string") return code;
  return errorText(err);
}

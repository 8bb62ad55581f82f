import { refused, token } from "./token";

// The one way the dashboard talks to the server, on its own origin: GET on the admin API
// (/admin/…) and protocol envelopes posted to `/` (PROTOCOL.md §2.2). A refused token (401/403)
// switches the app to its token prompt and throws AuthError; a missing record is NotFoundError, so
// that a page can say "no such id" rather than "something failed".

const PROTOCOL_VERSION = "2026-04-01";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}
export class AuthError extends ApiError {}
export class NotFoundError extends ApiError {}

export function authHeaders(): Record<string, string> {
  const t = token();
  return t ? { authorization: `Bearer ${t}` } : {};
}

/** GET /admin/<path>?<query>: the parsed JSON. */
export async function admin<T>(path: string, query: Record<string, string | string[] | undefined> = {}): Promise<T> {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    for (const v of [value ?? []].flat()) if (v !== "") params.append(key, v);
  }
  const search = params.size > 0 ? `?${params}` : "";
  const response = await send(`/admin/${path}${search}`, { headers: authHeaders() });
  const body = await readJson(response);
  if (response.ok) return body as T;
  throw failure(response.status, errorText(body, response.statusText));
}

/** Posts one protocol envelope; answers with its data, or throws for any status but 200. */
export async function protocol<T>(kind: string, data: object): Promise<T> {
  const head: Record<string, unknown> = { corrId: correlationId(), version: PROTOCOL_VERSION };
  const t = token();
  if (t) head["auth"] = t;
  const response = await send("/", {
    method: "POST",
    headers: { "content-type": "application/json", ...authHeaders() },
    body: JSON.stringify({ kind, head, data }),
  });
  const envelope = (await readJson(response)) as { head?: { status?: number }; data?: unknown } | undefined;
  const status = envelope?.head?.status ?? response.status;
  if (status === 200) return envelope?.data as T;
  throw failure(status, typeof envelope?.data === "string" ? envelope.data : errorText(envelope?.data, response.statusText));
}

/** Random hex; crypto.randomUUID exists only in secure contexts, and a LAN address over http is not one. */
function correlationId(): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(12)), (b) => b.toString(16).padStart(2, "0")).join("");
}

async function send(url: string, init: RequestInit): Promise<Response> {
  try {
    return await fetch(url, init);
  } catch {
    throw new ApiError(0, "The server cannot be reached. Is it running?");
  }
}

async function readJson(response: Response): Promise<unknown> {
  const text = await response.text();
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text || undefined;
  }
}

function errorText(body: unknown, fallback: string): string {
  if (typeof body === "string") return body;
  if (body && typeof body === "object" && "error" in body && typeof body.error === "string") return body.error;
  return fallback || "request failed";
}

function failure(status: number, message: string): ApiError {
  if (status === 401 || status === 403) {
    refused(status, message);
    return new AuthError(status, message);
  }
  if (status === 404) return new NotFoundError(status, message);
  return new ApiError(status, `${message} (${status})`);
}

// The operator's token: kept for this browser tab only (sessionStorage), sent as a Bearer header
// and in the protocol's head.auth. When the server refuses it, the app shows the token prompt and
// nothing else until a token it accepts is given.

const KEY = "resonate.dashboard.token";

export interface AuthState {
  /** Set when the server answered 401 or 403: why a (new) token is needed. */
  refused?: string;
}

let state: AuthState = {};
const listeners = new Set<(state: AuthState) => void>();

export function token(): string | undefined {
  return sessionStorage.getItem(KEY) ?? undefined;
}

export function setToken(value: string | undefined): void {
  if (value) sessionStorage.setItem(KEY, value);
  else sessionStorage.removeItem(KEY);
  publish({});
}

/** The server refused the request (401/403): ask for a token. */
export function refused(status: number, message: string): void {
  const why = status === 401 ? `This server requires an admin token. ${token() ? "The one given was not accepted." : ""}` : `The token given is not an admin token (${message}).`;
  publish({ refused: why.trim() });
}

export function authState(): AuthState {
  return state;
}

export function onAuthChange(listener: (state: AuthState) => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

function publish(next: AuthState): void {
  state = next;
  for (const listener of listeners) listener(state);
}

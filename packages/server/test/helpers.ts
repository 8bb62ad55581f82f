import { afterAll, beforeAll, beforeEach } from "vitest";
// Test harness for the protocol endpoint (spec §15.1): a debug-mode server on port 0 with an
// in-memory database, a tiny envelope client, debug helpers and an SSE reader for live tests.

import { PROTOCOL_VERSION, requestSchemas, type Kind } from "@resonate-compat/protocol";
import type { StartOptions } from "../src/index";
import { startServer, type RunningServer } from "../src/index";
import { debugSnap } from "../src/domain/debug";
import type { EmptyHeartbeat, OpContext, Reply } from "../src/domain/context";
import { operations, type StoredKind } from "../src/domain/operations";
import { tick } from "../src/domain/tick";
import { SqliteStore } from "../src/store/sqlite/sqlite-store";
import type { Op } from "../src/store/op";
import { freshDatabase, testStore } from "./support/postgres";

/** 2026-01-01T00:00:00Z, a Thursday (spec §15.1). */
export const T = 1767225600000;
/** Default retry interval. */
export const R = 30_000;
/** The worker group address used throughout the scenarios. */
export const W = "poll://any@workers";

// ---------------------------------------------------------------------------------------------
// Envelope client

export interface CallResult<D = any> {
  /** HTTP status code. */
  httpStatus: number;
  /** head.status of the response envelope (NaN if the body is not an envelope). */
  status: number;
  /** The response envelope's data (a message string on errors). */
  data: D;
  /** The parsed response body (or the raw text when it is not JSON). */
  body: any;
  /** Raw response text. */
  text: string;
  headers: Headers;
}

export type Head = Record<string, unknown>;

let corrCounter = 0;

/** POSTs a raw body to `/` and parses whatever comes back. */
export async function postRaw(url: string, body: string | Uint8Array, headers: Record<string, string> = {}): Promise<CallResult> {
  const res = await fetch(`${url}/`, { method: "POST", body, headers });
  const text = await res.text();
  let parsed: any = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // leave as text
  }
  const status = parsed && typeof parsed === "object" && parsed.head && typeof parsed.head.status === "number" ? parsed.head.status : Number.NaN;
  return {
    httpStatus: res.status,
    status,
    data: parsed && typeof parsed === "object" ? parsed.data : undefined,
    body: parsed,
    text,
    headers: res.headers,
  };
}

/** Builds a request envelope. */
export function envelope(kind: string, data: unknown, head: Head = {}): Record<string, unknown> {
  return { kind, head: { corrId: `c-${++corrCounter}`, version: PROTOCOL_VERSION, ...head }, data };
}

export async function call<D = any>(url: string, kind: string, data: unknown, head: Head = {}): Promise<CallResult<D>> {
  return postRaw(url, JSON.stringify(envelope(kind, data, head)), { "content-type": "application/json" });
}

/** head with resonate:debug_time = time. */
export const at = (time: number): Head => ({ "resonate:debug_time": time });

// ---------------------------------------------------------------------------------------------
// Test server

export interface TestServer {
  url: string;
  server: RunningServer;
  /** POST one envelope. */
  call<D = any>(kind: string, data: unknown, head?: Head): Promise<CallResult<D>>;
  /** POST one envelope with head["resonate:debug_time"] = time (and any extra head fields). */
  callAt<D = any>(time: number, kind: string, data: unknown, head?: Head): Promise<CallResult<D>>;
  start(): Promise<CallResult>;
  stop(): Promise<CallResult>;
  reset(): Promise<CallResult>;
  tick(time: number): Promise<CallResult>;
  snap(): Promise<Snapshot>;
  close(): Promise<void>;
}

export interface Snapshot {
  promises: any[];
  promiseTimeouts: { id: string; timeout: number }[];
  callbacks: { awaiter: string; awaited: string }[];
  listeners: { id: string; address: string }[];
  tasks: any[];
  taskTimeouts: { id: string; type: number; timeout: number }[];
  messages: { address: string; message: any }[];
}

export async function startTestServer(options: Partial<StartOptions> = {}): Promise<TestServer> {
  const storage = testStore() === "postgres" && options.db === undefined && options.storageType === undefined
    ? { storageType: "postgres" as const, storagePostgresUrl: await freshDatabase() }
    : {};
  const server = await startServer({
    host: "127.0.0.1",
    port: 0,
    db: ":memory:",
    debug: true,
    logLevel: "silent",
    ...storage,
    ...options,
  } as StartOptions);
  const url = server.url;
  const ts: TestServer = {
    url,
    server,
    call: (kind, data, head) => call(url, kind, data, head),
    callAt: (time, kind, data, head) => call(url, kind, data, { ...head, ...at(time) }),
    start: () => call(url, "debug.start", {}),
    stop: () => call(url, "debug.stop", {}),
    reset: () => call(url, "debug.reset", {}),
    tick: (time) => call(url, "debug.tick", { time }),
    async snap() {
      const res = await call(url, "debug.snap", {});
      if (res.status !== 200) throw new Error(`debug.snap failed: ${res.text}`);
      return res.data as Snapshot;
    },
    close: () => server.close(),
  };
  return ts;
}

/**
 * A debug-mode server in "deterministic" state for one scenario: loops paused and store empty.
 * Call in beforeEach.
 */
export async function freshState(ts: TestServer): Promise<void> {
  const s = await ts.start();
  const r = await ts.reset();
  if (s.status !== 200 || r.status !== 200) throw new Error("debug.start/reset failed");
}

// ---------------------------------------------------------------------------------------------
// Request builders (data objects) used across the scenarios

export const createData = (id: string, timeoutAt: number, tags: Record<string, string> = {}, extra: Record<string, unknown> = {}) => ({
  id,
  timeoutAt,
  tags,
  ...extra,
});

export const callbackAction = (awaited: string, awaiter: string) => ({
  kind: "promise.register_callback",
  head: { corrId: "inner", version: PROTOCOL_VERSION },
  data: { awaited, awaiter },
});

export const settleAction = (id: string, state: string, value: Record<string, unknown> = {}) => ({
  kind: "promise.settle",
  head: { corrId: "inner", version: PROTOCOL_VERSION },
  data: { id, state, value },
});

export const createAction = (id: string, timeoutAt: number, tags: Record<string, string> = {}, extra: Record<string, unknown> = {}) => ({
  kind: "promise.create",
  head: { corrId: "inner", version: PROTOCOL_VERSION },
  data: { id, timeoutAt, tags, ...extra },
});

/** The queued execute messages of a snapshot, as {id, version, address}. */
export function executes(snap: Snapshot): { id: string; version: number; address: string }[] {
  return snap.messages
    .filter((m) => m.message.kind === "execute")
    .map((m) => ({ id: m.message.data.task.id, version: m.message.data.task.version, address: m.address }));
}

/** The queued unblock messages of a snapshot, as {id, state, address, promise}. */
export function unblocks(snap: Snapshot): { id: string; state: string; address: string; promise: any }[] {
  return snap.messages
    .filter((m) => m.message.kind === "unblock")
    .map((m) => ({ id: m.message.data.promise.id, state: m.message.data.promise.state, address: m.address, promise: m.message.data.promise }));
}

/**
 * Empties the outbox without waiting for the message loop (messages to addresses with no open
 * stream are dropped), so that a later assertion sees only what happened afterwards. The timeout
 * loop stays paused.
 */
export async function drainOutbox(ts: TestServer): Promise<void> {
  const dispatcher = ts.server.dispatcher;
  dispatcher.resume();
  await dispatcher.drain();
  // resume() also kicked a drain of its own: on PostgreSQL it runs concurrently, and its commit
  // must be in before the test reads the state.
  await dispatcher.idle();
  dispatcher.pause();
}

export const taskOf = (snap: Snapshot, id: string) => snap.tasks.find((t) => t.id === id);
export const promiseOf = (snap: Snapshot, id: string) => snap.promises.find((p) => p.id === id);
export const taskTimeoutOf = (snap: Snapshot, id: string) => snap.taskTimeouts.filter((t) => t.id === id);

// ---------------------------------------------------------------------------------------------
// SSE reader

export interface SseEvent {
  /** The concatenated data: lines of the event. */
  data: string;
  /** Field names that appeared in the event (e.g. ["data"]). */
  fields: string[];
  /** Parsed JSON of data, when it parses. */
  json: any;
}

export interface SseStream {
  status: number;
  headers: Headers;
  events: SseEvent[];
  /** Comment lines received (without the leading ':'). */
  comments: string[];
  /** Raw text received so far. */
  raw: string;
  /** True once the server ended the stream. */
  ended: boolean;
  /** Waits until at least `n` events arrived; rejects after `timeoutMs`. */
  waitFor(n: number, timeoutMs?: number): Promise<SseEvent[]>;
  /** Waits until `predicate()` holds; rejects after `timeoutMs`. */
  waitUntil(predicate: () => boolean, timeoutMs?: number, what?: string): Promise<void>;
  /** Closes the client side. */
  close(): void;
}

/** Opens GET /poll/{group}/{id} and parses events as they arrive. */
export async function openSse(url: string, group: string, id: string, headers: Record<string, string> = {}): Promise<SseStream> {
  const controller = new AbortController();
  const res = await fetch(`${url}/poll/${encodeURIComponent(group)}/${encodeURIComponent(id)}`, {
    headers: { accept: "text/event-stream", ...headers },
    signal: controller.signal,
  });
  const stream: SseStream = {
    status: res.status,
    headers: res.headers,
    events: [],
    comments: [],
    raw: "",
    ended: false,
    waitFor(n, timeoutMs = 3000) {
      return this.waitUntil(() => this.events.length >= n, timeoutMs, `${n} SSE events (got ${this.events.length})`).then(() => this.events);
    },
    async waitUntil(predicate, timeoutMs = 3000, what = "condition") {
      const deadline = Date.now() + timeoutMs;
      while (!predicate()) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await sleep(10);
      }
    },
    close() {
      controller.abort();
    },
  };
  if (res.status !== 200 || !res.body) {
    stream.raw = await res.text().catch(() => "");
    stream.ended = true;
    return stream;
  }
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  let fields: string[] = [];
  let data: string[] = [];
  (async () => {
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        const chunk = decoder.decode(value, { stream: true });
        stream.raw += chunk;
        buffer += chunk;
        let nl: number;
        while ((nl = buffer.search(/\r\n|\n|\r/)) >= 0) {
          const line = buffer.slice(0, nl);
          buffer = buffer.slice(buffer[nl] === "\r" && buffer[nl + 1] === "\n" ? nl + 2 : nl + 1);
          if (line === "") {
            if (fields.length > 0) {
              const text = data.join("\n");
              let json: unknown;
              try {
                json = JSON.parse(text);
              } catch {
                json = undefined;
              }
              stream.events.push({ data: text, fields, json });
            }
            fields = [];
            data = [];
          } else if (line.startsWith(":")) {
            stream.comments.push(line.slice(1));
          } else {
            const colon = line.indexOf(":");
            const name = colon < 0 ? line : line.slice(0, colon);
            let value = colon < 0 ? "" : line.slice(colon + 1);
            if (value.startsWith(" ")) value = value.slice(1);
            fields.push(name);
            if (name === "data") data.push(value);
          }
        }
      }
    } catch {
      // aborted
    } finally {
      stream.ended = true;
    }
  })();
  return stream;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls `predicate` until it holds or the deadline passes. */
export async function eventually(predicate: () => boolean | Promise<boolean>, timeoutMs = 3000, what = "condition"): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

// ---------------------------------------------------------------------------------------------
// Domain-level harness: the store and the domain operations without HTTP, time passed in.

export interface DomainHarness {
  store: SqliteStore;
  /** Runs one operation at `now` in one transaction (data validated by the wire schema first). */
  run<K extends StoredKind>(kind: K, data: unknown, now: number): Reply;
  /** One timeout pass at `now`. Returns how many rows it handled. */
  tick(now: number): number;
  snap(): Snapshot;
  close(): void;
}

export function domainHarness(retryTimeout = R, emptyHeartbeat: EmptyHeartbeat = "renew"): DomainHarness {
  const store = SqliteStore.open(":memory:");
  const ctx = (now: number): Omit<OpContext, "tx"> => ({ now, retryTimeout, corrId: "domain", emptyHeartbeat });
  return {
    store,
    run(kind, data, now) {
      const parsed = requestSchemas[kind as Kind].safeParse(data);
      if (!parsed.success) return { status: 400, data: parsed.error.message };
      const operation = operations[kind] as unknown as (ctx: OpContext, data: unknown) => Op<Reply>;
      return store.transactSync((tx) => operation({ ...ctx(now), tx }, parsed.data));
    },
    tick(now) {
      return store.transactSync((tx) => tick({ ...ctx(now), tx })).handled;
    },
    snap() {
      return store.transactSync(function* (tx) {
        return (yield* debugSnap({ ...ctx(0), tx })).data as Snapshot;
      });
    },
    close() {
      void store.close();
    },
  };
}

/**
 * The debug-mode server a test file shares: started before its tests, reset before each, closed
 * after. The returned object stands for the server once it runs (it forwards to it). The timeout
 * interval is long because the wall clock is far past T: a background pass would expire everything.
 */
export function useSharedDebugServer(): TestServer {
  let server: TestServer | undefined;
  beforeAll(async () => {
    server = await startTestServer({ timeoutsInterval: 3_600_000 });
  });
  afterAll(async () => {
    await server?.close();
  });
  beforeEach(async () => {
    await freshState(server!);
  });
  return new Proxy({} as TestServer, {
    get: (_target, key) => {
      if (!server) throw new Error("the shared test server is used before it started");
      return Reflect.get(server, key, server);
    },
  });
}

// Envelope and HTTP surface (spec §2, §15.2): how a server answers malformed envelopes, versions,
// unknown kinds, content types, body sizes, and the non-protocol paths.
import type { Check } from "../check.js";
import { equal, fail, ok, show, status } from "../expect.js";
import type { Reply } from "../api.js";

/** The invariants of every envelope response (§2.3). */
function envelopeShape(r: Reply, kind: unknown, corrId: unknown, what: string): void {
  ok(r.contentType.includes("application/json"), `${what}: Content-Type must contain application/json, got '${r.contentType}'`);
  ok(typeof r.body === "object" && r.body !== null, `${what}: body is not a JSON envelope: ${show(r.body)}`);
  equal(r.kind, kind, `${what}: response kind`);
  equal(r.corrId, corrId, `${what}: response corrId`);
  equal(r.version, "2026-04-01", `${what}: response version`);
  equal(r.httpStatus, r.status, `${what}: HTTP status must equal head.status`);
}

function errorString(r: Reply, what: string, startsWith?: string): void {
  ok(typeof r.data === "string", `${what}: an error's data must be a string, got ${show(r.data)}`);
  if (startsWith) ok(r.data.startsWith(startsWith), `${what}: message should start with '${startsWith}', got ${show(r.data)}`);
}

export const envelopeChecks: Check[] = [
  {
    name: "envelope: invalid JSON → 400, kind 'unknown', corrId '0'",
    spec: "§15.2 #1",
    async run({ api }) {
      const r = await api.post('{"kind":');
      status(r, 400, "invalid JSON");
      envelopeShape(r, "unknown", "0", "invalid JSON");
      errorString(r, "invalid JSON", "Invalid request envelope");
    },
  },
  {
    name: "envelope: missing version → 400 with kind and corrId echoed",
    spec: "§15.2 #2",
    async run({ api }) {
      const r = await api.post(JSON.stringify({ kind: "promise.get", head: { corrId: "c1" }, data: { id: "p" } }));
      status(r, 400, "no version");
      envelopeShape(r, "promise.get", "c1", "no version");
      errorString(r, "no version");
    },
  },
  {
    name: "envelope: data missing, an array or null → 400",
    spec: "§15.2 #3",
    async run({ api }) {
      const head = { corrId: "c3", version: "2026-04-01" };
      for (const [label, body] of [
        ["missing", { kind: "promise.get", head }],
        ["array", { kind: "promise.get", head, data: [] }],
        ["null", { kind: "promise.get", head, data: null }],
      ] as const) {
        const r = await api.post(JSON.stringify(body));
        status(r, 400, `data ${label}`);
        envelopeShape(r, "promise.get", "c3", `data ${label}`);
      }
    },
  },
  {
    name: "envelope: empty kind, wrong version, unknown kind → 400",
    spec: "§15.2 #4–6",
    async run({ api }) {
      const empty = await api.post(JSON.stringify({ kind: "", head: { corrId: "c4", version: "2026-04-01" }, data: {} }));
      status(empty, 400, "kind ''");
      const old = await api.post(JSON.stringify({ kind: "promise.get", head: { corrId: "c5", version: "2025-01-01" }, data: { id: "p" } }));
      status(old, 400, "version 2025-01-01");
      envelopeShape(old, "promise.get", "c5", "version 2025-01-01");
      equal(old.version, "2026-04-01", "the response version is the server's, not echoed");
      const unknown = await api.call("promise.frobnicate", {}, { corrId: "c6" });
      status(unknown, 400, "kind promise.frobnicate");
      envelopeShape(unknown, "promise.frobnicate", "c6", "unknown kind");
      errorString(unknown, "unknown kind");
    },
  },
  {
    name: "envelope: extra head/data fields ignored; text/plain and no Content-Type accepted",
    spec: "§15.2 #8–9",
    async run({ api, runId }) {
      const id = `conf-${runId}-envelope-extra`;
      const extra = await api.call("promise.create", { id, timeoutAt: Date.now() + 60_000, foo: 1 }, { head: { "resonate:origin": id, other: true } });
      status(extra, 200, "extra fields");
      const body = api.envelope("promise.get", { id });
      status(await api.post(body, "text/plain"), 200, "Content-Type text/plain");
      status(await api.post(body, null), 200, "no Content-Type");
    },
  },
  {
    name: "envelope: a 404 is a JSON envelope too",
    spec: "§15.2 #7, §2.4",
    async run({ api, runId }) {
      const r = await api.call("promise.get", { id: `conf-${runId}-missing` }, { corrId: "c7" });
      status(r, 404, "promise.get of an unknown id");
      envelopeShape(r, "promise.get", "c7", "404");
      errorString(r, "404");
    },
  },
  {
    name: "envelope: a 1.5 MiB body is processed, a 3 MiB body is refused with 413",
    spec: "§15.2 #10, C8",
    async run({ api, runId, note }) {
      // Padding in an ignored data field of a search: nothing large is stored on the server.
      const mk = (bytes: number) => api.envelope("promise.search", { tags: { "conformance-run": `${runId}-body` }, padding: "A".repeat(bytes) });
      status(await api.post(mk(1.5 * 1024 * 1024)), 200, "1.5 MiB body");
      const big = await api.postForStatus(mk(3 * 1024 * 1024));
      if (big.status === undefined) {
        // The server closed while we were still sending: refused, but its 413 was lost in the reset.
        ok(big.cut, "a 3 MiB body: the connection closed without an answer after the whole body was sent");
        note("3 MiB body: connection closed before the body was sent (no 413 could be read)");
      } else equal(big.status, 413, "HTTP status of a 3 MiB body");
    },
  },
  {
    name: "http: GET /health and GET /ready → 200",
    spec: "§15.2 #11",
    async run({ api }) {
      equal((await api.http("GET", "/health")).status, 200, "GET /health");
      equal((await api.http("GET", "/ready")).status, 200, "GET /ready");
    },
  },
  {
    name: "http: legacy REST paths → 410 with a JSON error",
    spec: "§15.2 #12",
    async run({ api }) {
      for (const [method, path] of [
        ["GET", "/promises/p1"],
        ["DELETE", "/schedules"],
        ["POST", "/tasks/x"],
      ] as const) {
        const r = await api.http(method, path);
        equal(r.status, 410, `${method} ${path}`);
        let body: unknown;
        try {
          body = JSON.parse(r.text);
        } catch {
          fail(`${method} ${path}: body is not JSON: ${show(r.text)}`);
        }
        ok(typeof (body as { error?: unknown }).error === "string", `${method} ${path}: expected {"error": "..."}, got ${show(body)}`);
      }
    },
  },
  {
    name: "http: GET / → 405, unknown path → 404",
    spec: "§15.2 #13",
    async run({ api }) {
      equal((await api.http("GET", "/")).status, 405, "GET /");
      equal((await api.http("GET", "/conformance-no-such-path")).status, 404, "GET /conformance-no-such-path");
    },
  },
  {
    name: "debug off: debug.* → 403, resonate:debug_time ignored",
    spec: "§15.2 #14, §15.12 #109",
    needs: "no-debug",
    async run({ api, runId }) {
      const snap = await api.call("debug.snap", {});
      status(snap, 403, "debug.snap with debug mode off");
      const before = Date.now();
      const p = status(await api.call("promise.create", { id: `conf-${runId}-debug-time`, timeoutAt: before + 60_000 }, { time: 0 }), 200, "promise.create with debug_time 0").promise;
      ok(Math.abs(p.createdAt - before) < 60_000, `createdAt must be the wall clock (≈${before}), got ${p.createdAt}: resonate:debug_time was honoured`);
    },
  },
];

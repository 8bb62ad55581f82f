// Spec §15.2 (envelope and HTTP) and §15.12 (debug operations, except the live scenario 108).

import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { PROTOCOL_VERSION } from "@resonate-compat/protocol";
import { resolveConfig } from "../src/index";
import {
  T,
  W,
  call,
  callbackAction,
  createData,
  envelope,
  postRaw,
  startTestServer,
  type CallResult,
  type TestServer,
  useSharedDebugServer,
} from "./helpers";

const ts = useSharedDebugServer();

function expectEnvelope(res: CallResult, kind: string, corrId: string, status: number): void {
  expect(res.httpStatus).toBe(status);
  expect(res.status).toBe(status);
  expect(res.body.kind).toBe(kind);
  expect(res.body.head.corrId).toBe(corrId);
  expect(res.body.head.version).toBe(PROTOCOL_VERSION);
  expect(res.headers.get("content-type") ?? "").toContain("application/json");
}

describe("§15.2 envelope and HTTP", () => {
  it("1: invalid JSON → 400, kind 'unknown', corrId '0', data starts with 'Invalid request envelope'", async () => {
    const res = await postRaw(ts.url, '{"kind":', { "content-type": "application/json" });
    expectEnvelope(res, "unknown", "0", 400);
    expect(typeof res.data).toBe("string");
    expect(res.data).toMatch(/^Invalid request envelope/);
  });

  it("1b: wrong JSON types in the head → 400 envelope errors that echo what they can", async () => {
    const nonStringCorrId = await postRaw(ts.url, JSON.stringify({ kind: "promise.get", head: { corrId: 5, version: PROTOCOL_VERSION }, data: { id: "p" } }));
    expectEnvelope(nonStringCorrId, "promise.get", "0", 400);
    expect(nonStringCorrId.data).toMatch(/^Invalid request envelope/);

    const nonStringKind = await postRaw(ts.url, JSON.stringify({ kind: 7, head: { corrId: "k", version: PROTOCOL_VERSION }, data: {} }));
    expectEnvelope(nonStringKind, "unknown", "k", 400);

    const badDebugTime = await postRaw(
      ts.url,
      JSON.stringify({ kind: "promise.get", head: { corrId: "d", version: PROTOCOL_VERSION, "resonate:debug_time": 1.5 }, data: { id: "p" } }),
    );
    expectEnvelope(badDebugTime, "promise.get", "d", 400);

    const badAuth = await postRaw(ts.url, JSON.stringify({ kind: "promise.get", head: { corrId: "a", version: PROTOCOL_VERSION, auth: 5 }, data: { id: "p" } }));
    expectEnvelope(badAuth, "promise.get", "a", 400);

    const notAnObject = await postRaw(ts.url, "[1,2]");
    expectEnvelope(notAnObject, "unknown", "0", 400);

    const empty = await postRaw(ts.url, "");
    expectEnvelope(empty, "unknown", "0", 400);
  });

  it("1c: missing kind or head → 400 envelope errors", async () => {
    const noKind = await postRaw(ts.url, JSON.stringify({ head: { corrId: "nk", version: PROTOCOL_VERSION }, data: {} }));
    expectEnvelope(noKind, "unknown", "nk", 400);
    expect(noKind.data).toMatch(/^Invalid request envelope/);
    const noHead = await postRaw(ts.url, JSON.stringify({ kind: "promise.get", data: { id: "p" } }));
    expectEnvelope(noHead, "promise.get", "0", 400);
    const numericVersion = await postRaw(ts.url, JSON.stringify({ kind: "promise.get", head: { corrId: "nv", version: 5 }, data: { id: "p" } }));
    expectEnvelope(numericVersion, "promise.get", "nv", 400);
  });

  it("1d: head.auth null and resonate:debug_time null are accepted (absent)", async () => {
    const res = await call(ts.url, "promise.get", { id: "x" }, { corrId: "n", auth: null, "resonate:debug_time": null });
    expectEnvelope(res, "promise.get", "n", 404);
  });

  it("2: missing version → 400 with kind and corrId echoed", async () => {
    const res = await postRaw(ts.url, JSON.stringify({ kind: "promise.get", head: { corrId: "c1" }, data: { id: "p" } }));
    expectEnvelope(res, "promise.get", "c1", 400);
    expect(typeof res.data).toBe("string");
  });

  it("3: data missing → 400; data [] or null → 400 'Invalid 'data' field — must be an object'", async () => {
    const missing = await postRaw(ts.url, JSON.stringify({ kind: "promise.get", head: { corrId: "m", version: PROTOCOL_VERSION } }));
    expectEnvelope(missing, "promise.get", "m", 400);
    expect(missing.data).toMatch(/^Invalid request envelope/);

    for (const data of [[], null, "x", 5]) {
      const res = await postRaw(ts.url, JSON.stringify({ kind: "promise.get", head: { corrId: "d", version: PROTOCOL_VERSION }, data }));
      expectEnvelope(res, "promise.get", "d", 400);
      expect(res.data).toBe("Invalid 'data' field — must be an object");
    }
  });

  it("4: kind '' → 400 'Missing or invalid 'kind' field — must be a non-empty string'", async () => {
    const res = await postRaw(ts.url, JSON.stringify({ kind: "", head: { corrId: "e", version: PROTOCOL_VERSION }, data: {} }));
    expectEnvelope(res, "", "e", 400);
    expect(res.data).toBe("Missing or invalid 'kind' field — must be a non-empty string");
  });

  it("5: unsupported version → 400 naming it", async () => {
    const res = await postRaw(ts.url, JSON.stringify({ kind: "promise.get", head: { corrId: "v", version: "2025-01-01" }, data: { id: "p" } }));
    expectEnvelope(res, "promise.get", "v", 400);
    expect(res.data).toBe(`Unsupported protocol version '2025-01-01', supported versions: ["2026-04-01"]`);
  });

  it("2.5 order: empty kind beats bad data beats bad version", async () => {
    const both = await postRaw(ts.url, JSON.stringify({ kind: "", head: { corrId: "o", version: "x" }, data: [] }));
    expect(both.data).toBe("Missing or invalid 'kind' field — must be a non-empty string");
    const dataAndVersion = await postRaw(ts.url, JSON.stringify({ kind: "promise.get", head: { corrId: "o", version: "x" }, data: [] }));
    expect(dataAndVersion.data).toBe("Invalid 'data' field — must be an object");
    const versionAndKind = await postRaw(ts.url, JSON.stringify({ kind: "nope", head: { corrId: "o", version: "x" }, data: {} }));
    expect(versionAndKind.data).toMatch(/^Unsupported protocol version 'x'/);
  });

  it("6: unknown kind → 400 'Unknown operation: <kind>', kind echoed", async () => {
    const res = await call(ts.url, "promise.frobnicate", {}, { corrId: "u" });
    expectEnvelope(res, "promise.frobnicate", "u", 400);
    expect(res.data).toBe("Unknown operation: promise.frobnicate");
  });

  it("7: every response mirrors head.status in the HTTP status, echoes kind/corrId and is JSON (also 404s)", async () => {
    const cases: [string, unknown, number][] = [
      ["promise.get", { id: "nope" }, 404],
      ["promise.create", createData("p7", T + 60_000), 200],
      ["promise.get", { id: "p7" }, 200],
      ["promise.get", { id: "" }, 400],
      ["task.get", { id: "nope" }, 404],
      ["task.acquire", { id: "nope", version: 0, pid: "w", ttl: 1 }, 404],
      ["schedule.get", { id: "nope" }, 404],
      ["promise.register_callback", { awaited: "p7", awaiter: "nope" }, 422],
    ];
    for (const [kind, data, status] of cases) {
      const res = await call(ts.url, kind, data, { corrId: `corr-${kind}`, "resonate:debug_time": T });
      expectEnvelope(res, kind, `corr-${kind}`, status);
      if (status !== 200) expect(typeof res.data).toBe("string");
    }
  });

  it("8: extra fields in head and data are ignored", async () => {
    const res = await call(ts.url, "promise.create", { ...createData("x8", T + 1000), foo: "bar", param: { data: "YQ==", extra: 1 } }, {
      "resonate:origin": "x8",
      somethingElse: { nested: true },
      "resonate:debug_time": T,
    });
    expect(res.status).toBe(200);
    expect(res.data.promise.id).toBe("x8");
    expect(res.data.promise).not.toHaveProperty("foo");
    expect(res.data.promise.param).toStrictEqual({ data: "YQ==" });
  });

  it("9: body parsed as JSON whatever the content type (text/plain, none)", async () => {
    const body = JSON.stringify(envelope("promise.create", createData("ct", T + 1000), { "resonate:debug_time": T }));
    const plain = await postRaw(ts.url, body, { "content-type": "text/plain" });
    expect(plain.httpStatus).toBe(200);
    expect(plain.data.promise.id).toBe("ct");
    // A Uint8Array body makes fetch send no content-type at all.
    const none = await postRaw(ts.url, new TextEncoder().encode(body));
    expect(none.httpStatus).toBe(200);
    expect(none.data.promise.id).toBe("ct");
    const odd = await postRaw(ts.url, body, { "content-type": "application/x-www-form-urlencoded" });
    expect(odd.httpStatus).toBe(200);
  });

  it("10: a 3 MiB body → 413; a 1.5 MiB body → processed (200)", async () => {
    const big = (bytes: number, id: string) =>
      JSON.stringify(envelope("promise.create", createData(id, T + 1000, {}, { param: { data: "a".repeat(bytes) } }), { "resonate:debug_time": T }));
    const tooBig = await postRaw(ts.url, big(3 * 1024 * 1024, "big3"), { "content-type": "application/json" });
    expect(tooBig.httpStatus).toBe(413);
    const ok = await postRaw(ts.url, big(1.5 * 1024 * 1024, "big15"), { "content-type": "application/json" });
    expect(ok.httpStatus).toBe(200);
    expect(ok.data.promise.param.data.length).toBe(1.5 * 1024 * 1024);
  });

  it("11: GET /health → 200 empty; GET /ready → 200 empty", async () => {
    const health = await fetch(`${ts.url}/health`);
    expect(health.status).toBe(200);
    expect(await health.text()).toBe("");
    const ready = await fetch(`${ts.url}/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.text()).toBe("");
  });

  it("11b: GET /ready → 503 when the database is unusable", async () => {
    const other = await startTestServer({ timeoutsInterval: 3_600_000 });
    try {
      await other.server.store.close();
      const ready = await fetch(`${other.url}/ready`);
      expect(ready.status).toBe(503);
      expect(await ready.text()).toBe("");
      const health = await fetch(`${other.url}/health`);
      expect(health.status).toBe(200);
    } finally {
      await other.close();
    }
  });

  it("12: legacy REST paths → 410 with the JSON error", async () => {
    const expected = { error: "This endpoint is no longer supported. Please update to the latest SDK." };
    const requests: [string, string][] = [
      ["GET", "/promises/p1"],
      ["DELETE", "/schedules"],
      ["POST", "/tasks/x"],
      ["GET", "/promises"],
      ["PATCH", "/promises/a/b"],
    ];
    for (const [method, path] of requests) {
      const res = await fetch(`${ts.url}${path}`, { method, ...(method === "POST" || method === "PATCH" ? { body: "{}" } : {}) });
      expect(res.status, `${method} ${path}`).toBe(410);
      expect(res.headers.get("content-type") ?? "").toContain("application/json");
      expect(await res.json()).toEqual(expected);
    }
  });

  it("13: GET / → 405", async () => {
    const res = await fetch(`${ts.url}/`);
    expect(res.status).toBe(405);
  });

  it("13c: a known path with the wrong method → 405 (POST /health, POST /poll/a/b, DELETE /)", async () => {
    expect((await fetch(`${ts.url}/`, { method: "DELETE" })).status).toBe(405);
    expect((await fetch(`${ts.url}/health`, { method: "POST" })).status).toBe(405);
    expect((await fetch(`${ts.url}/poll/a/b`, { method: "POST" })).status).toBe(405);
  });

  it("13b: GET /nope → 404; no trailing-slash normalisation (/health/ → 404)", async () => {
    expect((await fetch(`${ts.url}/nope`)).status).toBe(404);
    expect((await fetch(`${ts.url}/health/`)).status).toBe(404);
  });

  it("15: a task.suspend immediate resume answers HTTP 300 with a JSON body and no Location header", async () => {
    await ts.callAt(T, "promise.create", createData("r", T + 60_000, { "resonate:target": W }));
    await ts.callAt(T, "task.acquire", { id: "r", version: 0, pid: "w1", ttl: 60_000 });
    await ts.callAt(T, "promise.create", createData("r.0", T + 60_000));
    await ts.callAt(T, "promise.settle", { id: "r.0", state: "resolved" });
    const res = await ts.callAt(T, "task.suspend", { id: "r", version: 1, actions: [callbackAction("r.0", "r")] });
    expect(res.httpStatus).toBe(300);
    expect(res.status).toBe(300);
    expect(res.headers.get("content-type") ?? "").toContain("application/json");
    expect(res.headers.get("location")).toBeNull();
    expect(res.data).toEqual({ preload: [] });
  });

  it("16: CORS is off by default (no Access-Control-Allow-Origin)", async () => {
    const res = await fetch(`${ts.url}/`, {
      method: "POST",
      headers: { origin: "http://example.com", "content-type": "application/json" },
      body: JSON.stringify(envelope("promise.get", { id: "x" })),
    });
    expect(res.headers.get("access-control-allow-origin")).toBeNull();
    const preflight = await fetch(`${ts.url}/`, {
      method: "OPTIONS",
      headers: { origin: "http://example.com", "access-control-request-method": "POST" },
    });
    expect(preflight.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("16b: with allowed origins ['*'] a preflight OPTIONS / asking for authorization, content-type succeeds", async () => {
    // Spec §2.7: CORS must be configurable. The option name is not fixed by the spec: look for one.
    const keys = Object.keys(resolveConfig({}));
    const corsKey = keys.find((k) => k.toLowerCase().includes("cors"));
    expect(corsKey, `no CORS option among the server's config keys: ${keys.join(", ")}`).toBeDefined();
    const other = await startTestServer({ [corsKey!]: ["*"] } as never);
    try {
      const preflight = await fetch(`${other.url}/`, {
        method: "OPTIONS",
        headers: {
          origin: "http://example.com",
          "access-control-request-method": "POST",
          "access-control-request-headers": "authorization, content-type",
        },
      });
      expect(preflight.status).toBeLessThan(300);
      expect(preflight.headers.get("access-control-allow-origin")).toMatch(/^(\*|http:\/\/example\.com)$/);
      expect((preflight.headers.get("access-control-allow-headers") ?? "").toLowerCase()).toMatch(/\*|authorization/);
    } finally {
      await other.close();
    }
  });
});

describe("§15.2 #14 and §15.12 #109: debug mode off", () => {
  let plain: TestServer;
  beforeAll(async () => {
    plain = await startTestServer({ debug: false, timeoutsInterval: 3_600_000 });
  });
  afterAll(async () => {
    await plain.close();
  });

  it("14: every debug.* kind → 403 'Debug operations are disabled'", async () => {
    for (const kind of ["debug.snap", "debug.start", "debug.stop", "debug.reset", "debug.tick"]) {
      const res = await plain.call(kind, kind === "debug.tick" ? { time: T } : {}, { corrId: "dbg" });
      expectEnvelope(res, kind, "dbg", 403);
      expect(res.data).toBe("Debug operations are disabled");
    }
  });

  it("14b: debug.* with a non-object data is still an envelope 400 (data is checked first)", async () => {
    const res = await plain.call("debug.snap", [], { corrId: "dbg" });
    expect(res.status).toBe(400);
  });

  it("109: resonate:debug_time is ignored (createdAt ≈ wall clock)", async () => {
    const before = Date.now();
    const res = await plain.call("promise.create", createData("wall", before + 3_600_000), { "resonate:debug_time": 0 });
    const after = Date.now();
    expect(res.status).toBe(200);
    expect(res.data.promise.state).toBe("pending");
    expect(res.data.promise.createdAt).toBeGreaterThanOrEqual(before);
    expect(res.data.promise.createdAt).toBeLessThanOrEqual(after);
  });
});

describe("§15.12 debug operations", () => {
  it("106: debug.tick time rules", async () => {
    const missing = await ts.call("debug.tick", {});
    expect(missing.status).toBe(400);
    expect(missing.data).toContain("Missing or invalid 'time' field");
    const notInt = await ts.call("debug.tick", { time: "x" });
    expect(notInt.status).toBe(400);
    expect(notInt.data).toContain("Missing or invalid 'time' field");
    const float = await ts.call("debug.tick", { time: 1.5 });
    expect(float.status).toBe(400);
    const mismatch = await ts.callAt(T + 1, "debug.tick", { time: T });
    expect(mismatch.status).toBe(400);
    expect(mismatch.data).toBe("resonate:debug_time must equal data.time");
    const equal = await ts.callAt(T, "debug.tick", { time: T });
    expect(equal.status).toBe(200);
    expect(equal.data).toEqual([]);
    const noHead = await ts.call("debug.tick", { time: T });
    expect(noHead.status).toBe(200);
    expect(noHead.data).toEqual([]);
  });

  it("107: debug.reset empties all seven snapshot arrays (and schedules)", async () => {
    await ts.callAt(T, "promise.create", createData("t1", T + 60_000, { "resonate:target": W }));
    await ts.callAt(T, "promise.create", createData("a", T + 60_000));
    await ts.callAt(T, "promise.register_callback", { awaited: "a", awaiter: "t1" });
    await ts.callAt(T, "promise.register_listener", { awaited: "a", address: "poll://uni@client/c1" });
    await ts.callAt(T, "schedule.create", {
      id: "s1",
      cron: "* * * * *",
      promiseId: "s1.{{.timestamp}}",
      promiseTimeout: 1000,
      promiseTags: { "resonate:target": W },
    });
    const before = await ts.snap();
    expect(before.promises.length).toBe(2);
    expect(before.callbacks.length).toBe(1);
    expect(before.listeners.length).toBe(1);
    expect(before.messages.length).toBe(1);

    const reset = await ts.reset();
    expect(reset.status).toBe(200);
    expect(reset.data).toEqual({});
    const after = await ts.snap();
    expect(after).toEqual({
      promises: [],
      promiseTimeouts: [],
      callbacks: [],
      listeners: [],
      tasks: [],
      taskTimeouts: [],
      messages: [],
    });
    expect((await ts.call("schedule.get", { id: "s1" })).status).toBe(404);
  });

  it("debug.start / debug.stop answer 200 {}", async () => {
    const start = await ts.start();
    expect(start.status).toBe(200);
    expect(start.data).toEqual({});
  });

  it("110: the snapshot omits ready callbacks", async () => {
    await ts.callAt(T, "promise.create", createData("t1", T + 60_000, { "resonate:target": W }));
    await ts.callAt(T, "promise.create", createData("a", T + 60_000));
    await ts.callAt(T, "promise.register_callback", { awaited: "a", awaiter: "t1" });
    expect((await ts.snap()).callbacks).toEqual([{ awaiter: "t1", awaited: "a" }]);
    await ts.callAt(T + 1, "promise.settle", { id: "a", state: "resolved" });
    const snap = await ts.snap();
    expect(snap.callbacks).toEqual([]);
    expect(snap.tasks.find((t) => t.id === "t1")?.resumes).toBe(1);
  });

  it("snapshot messages list executes first, then unblocks", async () => {
    await ts.callAt(T, "promise.create", createData("a", T + 60_000));
    await ts.callAt(T, "promise.register_listener", { awaited: "a", address: "poll://uni@client/c1" });
    await ts.callAt(T, "promise.settle", { id: "a", state: "resolved" });
    await ts.callAt(T, "promise.create", createData("z", T + 60_000, { "resonate:target": W }));
    const snap = await ts.snap();
    expect(snap.messages.map((m) => m.message.kind)).toEqual(["execute", "unblock"]);
    expect(snap.messages[1]!.message).toMatchObject({ kind: "unblock", head: {}, data: { promise: { id: "a", state: "resolved" } } });
  });

  it("snapshot arrays are sorted by id", async () => {
    for (const id of ["c", "a", "b"]) await ts.callAt(T, "promise.create", createData(id, T + 60_000, { "resonate:target": W }));
    const snap = await ts.snap();
    expect(snap.promises.map((p) => p.id)).toEqual(["a", "b", "c"]);
    expect(snap.tasks.map((t) => t.id)).toEqual(["a", "b", "c"]);
    expect(snap.promiseTimeouts.map((t) => t.id)).toEqual(["a", "b", "c"]);
    expect(snap.taskTimeouts.map((t) => t.id)).toEqual(["a", "b", "c"]);
    expect(snap.messages.map((m) => m.message.data.task.id)).toEqual(["a", "b", "c"]);
  });
});

// The admin API (/admin/…): groups with their workers and backlog, a task's history, a promise's
// call tree, promise search; bad parameters answer 400 naming them; with authentication on only
// an admin token gets in. Runs on SQLite and (server-pg) on PostgreSQL.

import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SignJWT } from "jose";
import { describe, expect, it } from "vitest";
import { ManualClock } from "../src/clock";
import { T, createData, eventually, openSse, startTestServer, type TestServer } from "./helpers";
import { closedAfterEachTest } from "./support/open-servers";

const open = closedAfterEachTest();

async function server(options: Record<string, unknown> = {}): Promise<{ ts: TestServer; clock: ManualClock }> {
  const clock = new ManualClock(T);
  const ts = await startTestServer({ clock, keepaliveInterval: 100, ...options });
  open.servers.push(ts);
  return { ts, clock };
}

async function get(ts: TestServer, path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  const res = await fetch(`${ts.url}${path}`, { headers });
  return { status: res.status, body: await res.json() };
}

const create = (ts: TestServer, id: string, tags: Record<string, string> = {}) =>
  ts.call("promise.create", createData(id, T + 3_600_000, tags)).then((r) => expect(r.status, r.text).toBe(200));

describe("admin API", () => {
  it("GET /admin/groups: workers with the tasks they hold, and the backlog", async () => {
    const { ts, clock } = await server();
    for (let i = 0; i < 3; i++) await create(ts, `t-${i}`, { "resonate:target": "poll://any@workers" });
    expect((await ts.call("task.acquire", { id: "t-0", version: 0, pid: "w1", ttl: 60_000 })).status).toBe(200);
    clock.advance(1000);
    await create(ts, "o-0", { "resonate:target": "poll://any@other/p1" });
    for (const pid of ["w1", "w2"]) {
      const s = await openSse(ts.url, "workers", pid);
      open.streams.push(s);
      await eventually(() => ts.server.registry.has("workers", pid));
    }
    clock.advance(2000);

    const { status, body } = await get(ts, "/admin/groups");
    expect(status).toBe(200);
    expect(body.groups.map((g: any) => g.group)).toEqual(["other", "workers"]);
    const workers = body.groups[1];
    expect(workers).toMatchObject({ group: "workers", pending: 2, acquired: 1, oldestPendingAgeMs: 3000 });
    expect(workers.workers.map((w: any) => [w.pid, w.tasks, w.replica, w.streams])).toEqual([
      ["w1", 1, ts.server.replica, 1],
      ["w2", 0, ts.server.replica, 1],
    ]);
    expect(workers.workers[0].connectedSince).toBe(T + 1000);
    expect(body.groups[0]).toEqual({ group: "other", workers: [], pending: 1, acquired: 0, oldestPendingAgeMs: 2000 });

    const only = await get(ts, "/admin/groups?group=other");
    expect(only.body.groups.map((g: any) => g.group)).toEqual(["other"]);
    const bad = await get(ts, "/admin/groups?grop=x");
    expect(bad.status).toBe(400);
    expect(bad.body.error).toContain("grop");
  });

  it("GET /admin/tasks/:id/history: the task's state and its events", async () => {
    const { ts } = await server();
    await create(ts, "h1", { "resonate:target": "poll://any@workers" });
    await ts.server.dispatcher.drain();
    expect((await ts.call("task.acquire", { id: "h1", version: 0, pid: "w1", ttl: 60_000 })).status).toBe(200);
    const { status, body } = await get(ts, "/admin/tasks/h1/history");
    expect(status).toBe(200);
    expect(body.task).toEqual({ state: "acquired", version: 1, pid: "w1" });
    expect(body.events.map((e: any) => e.event)).toEqual(["created", "unrouted", "acquired"]);
    expect(body.events[2]).toMatchObject({ at: T, version: 1, pid: "w1", replica: ts.server.replica, count: 1, detail: { ttl: 60_000 } });

    expect((await get(ts, "/admin/tasks/nope/history")).status).toBe(404);
    const bad = await get(ts, "/admin/tasks/h1/history?limit=0");
    expect(bad.status).toBe(400);
    expect(bad.body.error).toContain("limit");
  });

  it("GET /admin/promises/:id/tree: the call tree from resonate:origin and resonate:parent", async () => {
    const { ts, clock } = await server();
    const tags = (parent: string) => ({ "resonate:origin": "root", "resonate:parent": parent, "resonate:branch": parent });
    await create(ts, "root", { "resonate:origin": "root", "resonate:target": "poll://any@workers" });
    clock.advance(1);
    await create(ts, "root.1", tags("root"));
    clock.advance(1);
    await create(ts, "root.2", { ...tags("root"), "resonate:target": "poll://any@workers" });
    clock.advance(1);
    await create(ts, "root.2.1", tags("root.2"));
    await create(ts, "unrelated", { "resonate:origin": "unrelated" });
    expect((await ts.call("promise.settle", { id: "root.1", state: "resolved", value: {} })).status).toBe(200);

    const { status, body } = await get(ts, "/admin/promises/root/tree");
    expect(status).toBe(200);
    const shape = (n: any): any => [n.id, n.state, n.children.map(shape)];
    expect(shape(body.root)).toEqual(["root", "pending", [["root.1", "resolved", []], ["root.2", "pending", [["root.2.1", "pending", []]]]]]);
    expect(body).toMatchObject({ nodes: 4, truncated: false });
    expect(body.root.children[1].target).toBe("poll://any@workers");
    // A subtree, from one of its promises.
    expect(shape((await get(ts, "/admin/promises/root.2/tree")).body.root)).toEqual(["root.2", "pending", [["root.2.1", "pending", []]]]);
    expect((await get(ts, "/admin/promises/nope/tree")).status).toBe(404);
  });

  it("GET /admin/promises: search by id prefix, state, tags and time, a page at a time", async () => {
    const { ts, clock } = await server();
    for (let i = 0; i < 5; i++) {
      await create(ts, `order-${i}`, { kind: i % 2 === 0 ? "even" : "odd" });
      clock.advance(1000);
    }
    await create(ts, "other-1");
    expect((await ts.call("promise.settle", { id: "order-4", state: "resolved", value: {} })).status).toBe(200);

    const ids = (body: any) => body.promises.map((p: any) => p.id);
    expect(ids((await get(ts, "/admin/promises?prefix=order-")).body)).toEqual(["order-0", "order-1", "order-2", "order-3", "order-4"]);
    expect(ids((await get(ts, "/admin/promises?prefix=order-&state=resolved")).body)).toEqual(["order-4"]);
    expect(ids((await get(ts, "/admin/promises?tag=kind:even")).body)).toEqual(["order-0", "order-2", "order-4"]);
    // Keys with a colon (the SDKs' resonate:… tags) go as JSON; both forms combine.
    await create(ts, "job-1", { "resonate:target": "poll://any@workers", kind: "even" });
    await create(ts, "job-2", { "resonate:target": "poll://any@other", kind: "even" });
    const tags = encodeURIComponent(JSON.stringify({ "resonate:target": "poll://any@workers" }));
    expect(ids((await get(ts, `/admin/promises?tags=${tags}`)).body)).toEqual(["job-1"]);
    expect(ids((await get(ts, `/admin/promises?tags=${tags}&tag=kind:odd`)).body)).toEqual([]);
    expect(ids((await get(ts, `/admin/promises?from=${T + 1000}&to=${new Date(T + 3000).toISOString()}`)).body)).toEqual(["order-1", "order-2"]);

    const first = (await get(ts, "/admin/promises?prefix=order-&limit=2")).body;
    expect(ids(first)).toEqual(["order-0", "order-1"]);
    const second = (await get(ts, `/admin/promises?prefix=order-&limit=2&cursor=${first.cursor}`)).body;
    expect(ids(second)).toEqual(["order-2", "order-3"]);

    for (const [query, names] of [
      ["state=done", "state"],
      ["limit=abc", "limit"],
      ["from=yesterday", "from"],
      ["tag=nocolon", "tag"],
      ["tags=%5B%5D", "tags"],
      ["tags=%7B%22a%22%3A1%7D", "tags"],
      ["color=red", "color"],
    ] as const) {
      const res = await get(ts, `/admin/promises?${query}`);
      expect(res.status, query).toBe(400);
      expect(res.body.error, query).toContain(names);
    }
  });

  it("with authentication on: 401 without a valid token, 403 without role admin, 200 with it", async () => {
    const { publicKey, privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const keyPath = join(mkdtempSync(join(tmpdir(), "admin-auth-")), "public.pem");
    writeFileSync(keyPath, publicKey.export({ type: "spki", format: "pem" }));
    const { ts } = await server({ authPublicKey: keyPath });
    const token = (claims: Record<string, unknown>) =>
      new SignJWT(claims).setProtectedHeader({ alg: "ES256" }).setExpirationTime(Math.floor(Date.now() / 1000) + 600).sign(privateKey);
    expect((await get(ts, "/admin/groups")).status).toBe(401);
    expect((await get(ts, "/admin/groups", { authorization: "Bearer garbage" })).status).toBe(401);
    expect((await get(ts, "/admin/groups", { authorization: `Bearer ${await token({ prefix: "" })}` })).status).toBe(403);
    expect((await get(ts, "/admin/groups", { authorization: `Bearer ${await token({ role: "admin" })}` })).status).toBe(200);
  });
});

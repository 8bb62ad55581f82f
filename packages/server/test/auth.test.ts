import { generateKeyPairSync } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RunningServer, startServer } from "../src/index";
import { eventually } from "./helpers";
import { openChannel } from "./support/channel-client";

// Authentication and prefix authorization (spec §10, §15.14).

const { publicKey, privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
const other = generateKeyPairSync("ec", { namedCurve: "P-256" });

function token(claims: Record<string, unknown>, options: { key?: typeof privateKey; exp?: number; iss?: string } = {}) {
  let jwt = new SignJWT(claims).setProtectedHeader({ alg: "ES256" }).setExpirationTime(options.exp ?? Math.floor(Date.now() / 1000) + 600);
  if (options.iss) jwt = jwt.setIssuer(options.iss);
  return jwt.sign(options.key ?? privateKey);
}

let server: RunningServer;

async function call(kind: string, data: unknown, auth?: string) {
  const res = await fetch(`${server.url}/`, {
    method: "POST",
    body: JSON.stringify({ kind, head: { corrId: "c", version: "2026-04-01", ...(auth !== undefined && { auth }) }, data }),
  });
  const body = (await res.json()) as { head: { status: number }; data: unknown };
  expect(res.status).toBe(body.head.status);
  return body;
}

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), "auth-"));
  const keyPath = join(dir, "public.pem");
  writeFileSync(keyPath, publicKey.export({ type: "spki", format: "pem" }));
  server = await startServer({ port: 0, db: ":memory:", logLevel: "silent", authPublicKey: keyPath, authIss: "tests" });
});
afterAll(() => server.close());

const create = (id: string) => ({ id, timeoutAt: Date.now() + 60_000 });

describe("authentication", () => {
  it("refuses a request without a token, or with the token only in the Authorization header", async () => {
    expect((await call("promise.create", create("a"))).head.status).toBe(401);
    const res = await fetch(`${server.url}/`, {
      method: "POST",
      headers: { authorization: `Bearer ${await token({ role: "admin" }, { iss: "tests" })}` },
      body: JSON.stringify({ kind: "promise.get", head: { corrId: "c", version: "2026-04-01" }, data: { id: "a" } }),
    });
    expect(res.status).toBe(401);
  });

  it("refuses malformed, expired, wrongly signed and wrong-issuer tokens", async () => {
    const expired = await token({ role: "admin" }, { iss: "tests", exp: Math.floor(Date.now() / 1000) - 3600 });
    const forged = await token({ role: "admin" }, { iss: "tests", key: other.privateKey });
    const wrongIssuer = await token({ role: "admin" }, { iss: "someone-else" });
    for (const auth of ["not-a-jwt", expired, forged, wrongIssuer]) {
      expect((await call("promise.get", { id: "a" }, auth)).head.status).toBe(401);
    }
  });

  it("lets an admin (any case) do everything, including searches", async () => {
    const admin = await token({ role: "Admin" }, { iss: "tests" });
    expect((await call("promise.create", create("adm-1"), admin)).head.status).toBe(200);
    expect((await call("promise.search", {}, admin)).head.status).toBe(200);
  });

  it("limits a prefix token to ids with that prefix and forbids searches", async () => {
    const scoped = await token({ prefix: "t1." }, { iss: "tests" });
    expect((await call("promise.create", create("t1.x"), scoped)).head.status).toBe(200);
    expect((await call("promise.create", create("t2.x"), scoped)).data).toBe("Forbidden");
    expect((await call("promise.search", {}, scoped)).head.status).toBe(403);
    expect((await call("promise.register_listener", { awaited: "t2.x", address: "poll://uni@c/1" }, scoped)).head.status).toBe(403);
    expect((await call("task.heartbeat", { pid: "p", tasks: [{ id: "t1.a", version: 1 }, { id: "t2.b", version: 1 }] }, scoped)).head.status).toBe(403);
  });

  it("allows everything to an empty prefix and nothing to a token without one", async () => {
    expect((await call("promise.get", { id: "adm-1" }, await token({ prefix: "" }, { iss: "tests" }))).head.status).toBe(200);
    for (const claims of [{}, { prefix: null }, { prefix: 5 }]) {
      expect((await call("promise.get", { id: "adm-1" }, await token(claims, { iss: "tests" }))).head.status).toBe(403);
    }
  });

  it("protects the poll stream with a bearer token", async () => {
    const refused = await fetch(`${server.url}/poll/workers/w1`);
    expect(refused.status).toBe(401);
    expect(await refused.text()).toBe("Unauthorized");
    const controller = new AbortController();
    const accepted = await fetch(`${server.url}/poll/workers/w1`, {
      headers: { authorization: `Bearer ${await token({ prefix: "x" }, { iss: "tests" })}` },
      signal: controller.signal,
    });
    expect(accepted.status).toBe(200);
    expect(accepted.headers.get("content-type")).toMatch(/^text\/event-stream/);
    controller.abort();
  });

  it("protects the channel with a bearer token at the upgrade, and checks each request's own token", async () => {
    await expect(openChannel(server.url, "workers", "c1")).rejects.toThrow(/401/);
    const scoped = await token({ prefix: "t1." }, { iss: "tests" });
    const channel = await openChannel(server.url, "workers", "c1", undefined, { authorization: `Bearer ${scoped}` });
    const head = (corrId: string, auth?: string) => ({ corrId, version: "2026-04-01", ...(auth !== undefined && { auth }) });
    channel.send(
      { kind: "promise.create", head: head("no-auth"), data: create("t1.ch") },
      { kind: "promise.create", head: head("out-of-prefix", scoped), data: create("t2.ch") },
      { kind: "promise.create", head: head("in-prefix", scoped), data: create("t1.ch") },
    );
    await eventually(() => channel.answers.length === 3, 3000, "three answers");
    const status = Object.fromEntries(channel.answers.map((a) => [a.head.corrId, a.head.status]));
    expect(status).toEqual({ "no-auth": 401, "out-of-prefix": 403, "in-prefix": 200 });
    await channel.close();
  });

  it("acquires eagerly for a channel with the channel's own token: a task outside its prefix comes as an execute", async () => {
    const scoped = await token({ prefix: "e1." }, { iss: "tests" });
    const admin = await token({ role: "admin" }, { iss: "tests" });
    const worker = await openChannel(server.url, "eager-workers", "w1", undefined, { authorization: `Bearer ${scoped}` }, "?slots=4&ttl=5000");
    await eventually(() => server.registry.has("eager-workers", "w1"), 3000, "the channel registered");
    const job = (id: string) => ({ ...create(id), param: { headers: {}, data: "" }, tags: { "resonate:target": "poll://any@eager-workers" } });
    expect((await call("promise.create", job("e1.inside"), admin)).head.status).toBe(200);
    await eventually(() => worker.acquired.length === 1, 3000, "the task inside the prefix, acquired");
    expect(worker.acquired[0]).toMatchObject({ head: { status: 200 }, data: { task: { id: "e1.inside", state: "acquired" } } });
    // Its eager acquire is refused (403) like the worker's own would be: the execute is sent instead.
    expect((await call("promise.create", job("e2.outside"), admin)).head.status).toBe(200);
    await eventually(() => worker.messages.length === 1, 3000, "the task outside the prefix, as an execute");
    expect(worker.messages[0]).toMatchObject({ kind: "execute", data: { task: { id: "e2.outside" } } });
    expect(worker.acquired).toHaveLength(1);
    await worker.close();
  });
});

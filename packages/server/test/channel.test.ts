// The channel (src/api/channel.ts): POST / and the poll stream of (group, pid) on one WebSocket,
// their items batched per event-loop turn. It must answer exactly as POST / does, deliver what the
// SSE stream would, count as the process's stream for dispatch, and leave every other upgrade alone.

import http from "node:http";
import { CHANNEL_SUBPROTOCOL } from "@resonate-compat/protocol/channel";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openChannel } from "./support/channel-client";
import { type TestServer, call, createData, envelope, eventually, openSse, startTestServer } from "./helpers";

// A live server (loops running, dispatch on), shared by the tests: each uses its own group and ids.
let ts: TestServer;
beforeAll(async () => {
  ts = await startTestServer({ debug: false });
});
afterAll(() => ts.close());

/** The status line of an upgrade attempt that the server refuses (or 101 when it accepts). */
function upgradeStatus(path: string, headers: Record<string, string> = {}): Promise<number> {
  const { port } = new URL(ts.url);
  return new Promise((resolve, reject) => {
    const request = http.request({
      host: "127.0.0.1",
      port: Number(port),
      path,
      headers: { Connection: "Upgrade", Upgrade: "websocket", "Sec-WebSocket-Version": "13", "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==", ...headers },
    });
    request.on("upgrade", (response, socket) => {
      socket.destroy();
      resolve(response.statusCode ?? 0);
    });
    request.on("response", (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    request.on("error", reject);
    request.end();
  });
}

describe("channel", () => {
  it("answers each request as POST / does, matched by corrId", async () => {
    const channel = await openChannel(ts.url, "ch", "p1");
    channel.send(
      envelope("promise.create", createData("c1", Date.now() + 60_000), { corrId: "x1" }),
      envelope("promise.get", { id: "nope" }, { corrId: "x2" }),
      { kind: "promise.nonsense", head: { corrId: "x3", version: "2026-04-01" }, data: {} },
    );
    await eventually(() => channel.answers.length === 3, 3000, "three answers");
    const byCorr = Object.fromEntries(channel.answers.map((a) => [a.head.corrId, a]));
    const overHttp = await call(ts.url, "promise.get", { id: "c1" });
    expect(byCorr.x1.head.status).toBe(200);
    expect(byCorr.x1.data.promise).toEqual(overHttp.data.promise);
    expect(byCorr.x2.head.status).toBe(404);
    expect(byCorr.x3.head.status).toBe(400);
    await channel.close();
  });

  it("answers what one frame asked in fewer frames than requests (one commit, one write)", async () => {
    const channel = await openChannel(ts.url, "ch", "p2");
    const n = 20;
    channel.send(...Array.from({ length: n }, (_, i) => envelope("promise.create", createData(`b${i}`, Date.now() + 60_000), { corrId: `b${i}` })));
    await eventually(() => channel.answers.length === n, 3000, `${n} answers`);
    expect(channel.answers.every((a) => a.head.status === 200)).toBe(true);
    expect(channel.frames.length).toBeLessThan(n);
    await channel.close();
  });

  it("is the process's poll stream: executes for its group and unblocks for its pid arrive on it", async () => {
    const worker = await openChannel(ts.url, "chw", "w1");
    await eventually(() => ts.server.registry.has("chw", "w1"), 3000, "the channel registered as a stream");
    const created = await call(ts.url, "promise.create", createData("job-1", Date.now() + 60_000, { "resonate:target": "poll://any@chw" }));
    expect(created.status).toBe(200);
    await eventually(() => worker.messages.length === 1, 3000, "the execute");
    expect(worker.messages[0]).toMatchObject({ kind: "execute", data: { task: { id: "job-1" } } });

    await call(ts.url, "promise.create", createData("awaited", Date.now() + 60_000));
    await call(ts.url, "promise.register_listener", { awaited: "awaited", address: "poll://uni@chw/w1" });
    await call(ts.url, "promise.settle", { id: "awaited", state: "resolved", value: { headers: {}, data: "" } });
    await eventually(() => worker.messages.length === 2, 3000, "the unblock");
    expect(worker.messages[1]).toMatchObject({ kind: "unblock", data: { promise: { id: "awaited", state: "resolved" } } });
    await worker.close();
    await eventually(() => !ts.server.registry.has("chw", "w1"), 3000, "the channel's stream removed");
  });

  it("shares its group with SSE streams, and once it is closed the group's work goes to them", async () => {
    const channel = await openChannel(ts.url, "mixed", "c1");
    const sse = await openSse(ts.url, "mixed", "s1");
    await channel.close();
    await eventually(() => !ts.server.registry.has("mixed", "c1"), 3000, "the channel's stream removed");
    for (let i = 0; i < 3; i++) await call(ts.url, "promise.create", createData(`m${i}`, Date.now() + 60_000, { "resonate:target": "poll://any@mixed" }));
    await sse.waitFor(3);
    expect(sse.events.map((e) => e.json.data.task.id).sort()).toEqual(["m0", "m1", "m2"]);
    sse.close();
  });

  it("replaces a stream of the same pid, as a reconnect does", async () => {
    const first = await openChannel(ts.url, "ch", "same");
    const closed = new Promise<number>((resolve) => first.ws.once("close", (code) => resolve(code)));
    const second = await openChannel(ts.url, "ch", "same");
    expect(await closed).toBe(1001);
    await call(ts.url, "promise.create", createData("to-same", Date.now() + 60_000, { "resonate:target": "poll://uni@ch/same" }));
    await eventually(() => second.messages.length === 1, 3000, "the execute on the live channel");
    await second.close();
  });

  it("refuses a foreign subprotocol and malformed paths, and leaves other upgrades to HTTP", async () => {
    expect(await upgradeStatus("/ws/g/p", { "Sec-WebSocket-Protocol": "something-else" })).toBe(400);
    expect(await upgradeStatus("/ws/g/p", { "Sec-WebSocket-Protocol": CHANNEL_SUBPROTOCOL })).toBe(101);
    expect(await upgradeStatus("/ws/g/%E0%A4%A")).toBe(400);
    expect(await upgradeStatus("/ws/only-group")).toBe(404);
    // h2c (curl --http2) on a bodiless request: answered as the plain request it also is.
    const health = await new Promise<number>((resolve, reject) => {
      const { port } = new URL(ts.url);
      http.get({ host: "127.0.0.1", port: Number(port), path: "/health", headers: { Connection: "Upgrade", Upgrade: "h2c" } }, (response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
      }).on("error", reject);
    });
    expect(health).toBe(200);
  });

  it("refuses a binary frame by closing with 1003", async () => {
    const channel = await openChannel(ts.url, "ch", "bin");
    const code = new Promise<number>((resolve) => channel.ws.once("close", (c) => resolve(c)));
    channel.ws.send(Buffer.from([1, 2, 3]));
    expect(await code).toBe(1003);
  });
});

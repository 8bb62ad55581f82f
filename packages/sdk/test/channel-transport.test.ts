import type { IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { type Message, PROTOCOL_VERSION, type RequestEnvelope } from "@resonate-compat/protocol";
import { CHANNEL_SUBPROTOCOL } from "@resonate-compat/protocol/channel";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type WebSocket, WebSocketServer } from "ws";
import { ChannelTransport } from "../src/channel-transport";
import { systemClock } from "../src/clock";
import { HttpClient } from "../src/http-client";
import { ResonateConfigError } from "../src/errors";
import { RequestTimeoutError, TransportClosedError } from "../src/http-transport";
import type { LogFields } from "../src/logger";
import { Resonate } from "../src/resonate";
import { promiseRecord, silentLogger, waitFor } from "./support/fake-server";
import { encodeInvocation } from "../src/codec";
import type { Context } from "../src/context";

// The channel against a tiny fake server: a WebSocketServer on a real socket (port 0) that records
// every frame and lets each test answer, push and drop as it likes.

interface FakeChannelServer {
  url: string;
  /** Open sockets, oldest first. */
  sockets: WebSocket[];
  /** Every upgrade request (refused ones included). */
  upgrades: IncomingMessage[];
  /** Every frame received, as text. */
  frames: string[];
  /** Refuse upgrades with this status (0: accept). */
  refuse: number;
  /** Runs on each new socket before it can receive anything. */
  onSocket: (ws: WebSocket) => void;
  answer(envelope: RequestEnvelope, status: number, data: unknown): string;
  close(): Promise<void>;
}

async function startFakeChannelServer(): Promise<FakeChannelServer> {
  const wss = new WebSocketServer({
    host: "127.0.0.1",
    port: 0,
    handleProtocols: (protocols) => (protocols.has(CHANNEL_SUBPROTOCOL) ? CHANNEL_SUBPROTOCOL : false),
    verifyClient: (info, callback) => {
      fake.upgrades.push(info.req);
      if (fake.refuse === 0) callback(true);
      else callback(false, fake.refuse);
    },
  });
  const fake: FakeChannelServer = {
    url: "",
    sockets: [],
    upgrades: [],
    frames: [],
    refuse: 0,
    onSocket: () => {},
    answer: (envelope, status, data) =>
      `a${JSON.stringify({ kind: envelope.kind, head: { corrId: envelope.head.corrId, status, version: PROTOCOL_VERSION }, data })}`,
    close: async () => {
      for (const ws of wss.clients) ws.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
  wss.on("connection", (ws) => {
    fake.sockets.push(ws);
    ws.on("message", (data) => fake.frames.push(data.toString()));
    fake.onSocket(ws);
    ws.on("close", () => fake.sockets.splice(fake.sockets.indexOf(ws), 1));
  });
  await new Promise<void>((resolve) => wss.once("listening", () => resolve()));
  fake.url = `http://127.0.0.1:${(wss.address() as AddressInfo).port}`;
  return fake;
}

const requestsOf = (frame: string): RequestEnvelope[] => frame.split("\n").map((line) => JSON.parse(line) as RequestEnvelope);
const execute = (id: string) => ({ kind: "execute", head: { serverUrl: "http://x" }, data: { task: { id, version: 0 } } });

describe("ChannelTransport", () => {
  let fake: FakeChannelServer;
  let channel: ChannelTransport | undefined;
  const received: Message[] = [];
  const opens: boolean[] = [];
  const warnings: { fields: LogFields; message: string }[] = [];
  const logger = { ...silentLogger, warn: (fields: LogFields, message: string) => void warnings.push({ fields, message }) };

  beforeEach(async () => {
    fake = await startFakeChannelServer();
    received.length = 0;
    opens.length = 0;
    warnings.length = 0;
  });
  afterEach(async () => {
    channel?.close();
    channel = undefined;
    await fake.close();
  });

  function connect(overrides: { token?: string; group?: string; pid?: string } = {}): ChannelTransport {
    channel = new ChannelTransport({
      url: fake.url,
      group: overrides.group ?? "workers",
      pid: overrides.pid ?? "w1",
      token: overrides.token,
      clock: systemClock,
      logger,
      backoff: { initial: 50, max: 200 },
      onMessage: (m) => received.push(m),
      onOpen: (reconnected) => opens.push(reconnected),
    });
    channel.start();
    return channel;
  }

  /** A client over the channel, with one attempt per call unless told otherwise. */
  function client(c: ChannelTransport, options: { token?: string; attempts?: number; requestTimeout?: number } = {}) {
    return new HttpClient({
      url: fake.url,
      token: options.token,
      transport: c,
      requestTimeout: options.requestTimeout ?? 5_000,
      retry: { attempts: options.attempts ?? 1, initialDelay: 20, maxDelay: 20 },
      clock: systemClock,
      logger: silentLogger,
    });
  }

  /** Answers every request of every frame of `ws` from now on with 200 and `{echo: <id of data>}`. */
  function echo(ws: WebSocket): void {
    ws.on("message", (data) => {
      const answers = requestsOf(data.toString()).map((r) => fake.answer(r, 200, { echo: (r.data as { id: string }).id }));
      ws.send(answers.join("\n"));
    });
  }

  it("opens ws://…/ws/<group>/<pid> with the subprotocol and the token, and reports the open", async () => {
    const c = connect({ group: "my group", pid: "p/1", token: "tok" });
    expect(c.channelUrl).toBe(`${fake.url.replace("http:", "ws:")}/ws/my%20group/p%2F1`);
    await c.whenOpen();
    expect(c.isOpen).toBe(true);
    expect(c.messages.isOpen).toBe(true);
    expect(fake.upgrades[0]!.url).toBe("/ws/my%20group/p%2F1");
    expect(fake.upgrades[0]!.headers.authorization).toBe("Bearer tok");
    expect(fake.upgrades[0]!.headers["sec-websocket-protocol"]).toBe(CHANNEL_SUBPROTOCOL);
    expect(fake.upgrades[0]!.headers["sec-websocket-extensions"]).toBeUndefined();
    expect(opens).toEqual([false]);
  });

  it("sends the requests of one tick as one frame, one envelope a line, head.auth included", async () => {
    const c = connect({ token: "tok" });
    await c.whenOpen();
    echo(fake.sockets[0]!);
    const http = client(c, { token: "tok" });
    const answers = await Promise.all(["a", "b", "c"].map((id) => http.send("promise.get", { id })));
    expect(answers.map((a) => a.data)).toEqual([{ echo: "a" }, { echo: "b" }, { echo: "c" }]);
    expect(fake.frames).toHaveLength(1);
    const envelopes = requestsOf(fake.frames[0]!);
    expect(envelopes.map((e) => e.data)).toEqual([{ id: "a" }, { id: "b" }, { id: "c" }]);
    expect(envelopes.every((e) => e.kind === "promise.get" && e.head.auth === "tok")).toBe(true);
  });

  it("matches answers to requests by corrId, whatever their order", async () => {
    const c = connect();
    await c.whenOpen();
    const ws = fake.sockets[0]!;
    ws.on("message", (data) => {
      const answers = requestsOf(data.toString()).map((r) => fake.answer(r, 200, { echo: (r.data as { id: string }).id }));
      ws.send(answers.reverse().join("\n"));
    });
    const http = client(c);
    const answers = await Promise.all(["a", "b", "c"].map((id) => http.send("promise.get", { id })));
    expect(answers.map((a) => a.data)).toEqual([{ echo: "a" }, { echo: "b" }, { echo: "c" }]);
  });

  it("passes a protocol status through as the answer's", async () => {
    const c = connect();
    await c.whenOpen();
    const ws = fake.sockets[0]!;
    ws.on("message", (data) => ws.send(requestsOf(data.toString()).map((r) => fake.answer(r, 404, "no such promise")).join("\n")));
    await expect(client(c).send("promise.get", { id: "x" })).resolves.toEqual({ status: 404, data: "no such promise" });
  });

  it("delivers the messages of a frame to onMessage, among answers, and drops malformed ones", async () => {
    const c = connect();
    await c.whenOpen();
    const ws = fake.sockets[0]!;
    ws.on("message", (data) => {
      const [request] = requestsOf(data.toString());
      ws.send([`m${JSON.stringify(execute("one"))}`, fake.answer(request!, 200, {}), "m{not json", "x?", `m${JSON.stringify(execute("two"))}`].join("\n"));
    });
    await client(c).send("promise.get", { id: "p" });
    await waitFor(() => received.length === 2);
    expect(received.map((m) => (m.data as { task: { id: string } }).task.id)).toEqual(["one", "two"]);
    expect(warnings.map((w) => w.message)).toEqual(["dropping malformed message", "dropping an item with an unknown tag"]);
  });

  it("requests made before the socket opens wait for it and then leave together", async () => {
    fake.onSocket = echo;
    const c = connect();
    const http = client(c);
    const pending = Promise.all(["a", "b"].map((id) => http.send("promise.get", { id })));
    await expect(pending).resolves.toHaveLength(2);
    expect(fake.frames).toHaveLength(1);
    expect(requestsOf(fake.frames[0]!)).toHaveLength(2);
  });

  it("fails a request with no answer within its timeout with a RequestTimeoutError", async () => {
    const c = connect();
    await c.whenOpen();
    await expect(c.post("{}", {}, 50, "never")).rejects.toBeInstanceOf(RequestTimeoutError);
    // A late answer for it is ignored.
    fake.sockets[0]!.send(`a${JSON.stringify({ kind: "promise.get", head: { corrId: "never", status: 200, version: PROTOCOL_VERSION }, data: {} })}`);
    await new Promise((r) => setTimeout(r, 20));
    expect(c.isOpen).toBe(true);
  });

  it("also times out a request that waited for a socket that never opened", async () => {
    fake.refuse = 503;
    const c = connect();
    await expect(c.post("{}", {}, 100, "waiting")).rejects.toBeInstanceOf(RequestTimeoutError);
    expect(fake.frames).toEqual([]);
  });

  it("after the server drops the socket: requests in flight fail, the channel reopens, later requests go through", async () => {
    const c = connect();
    await c.whenOpen();
    const first = fake.sockets[0]!;
    const inFlight = c.post(JSON.stringify({ n: 1 }), {}, 5_000, "in-flight");
    await waitFor(() => fake.frames.length === 1);
    first.terminate();
    const err = await inFlight.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect(err).not.toBeInstanceOf(TransportClosedError);
    expect((err as Error).message).toContain("the channel closed before the answer came");

    await waitFor(() => opens.length === 2);
    expect(opens).toEqual([false, true]);
    echo(fake.sockets[0]!);
    await expect(client(c).send("promise.get", { id: "after" })).resolves.toMatchObject({ status: 200, data: { echo: "after" } });
    expect(warnings.find((w) => w.message === "channel lost, reconnecting")?.fields).toMatchObject({ url: c.channelUrl, delay: 50 });
  });

  it("HttpClient retries a request the lost socket carried, on the next socket", async () => {
    const c = connect();
    await c.whenOpen();
    fake.sockets[0]!.once("message", () => fake.sockets[0]!.terminate());
    fake.onSocket = echo;
    const answer = client(c, { attempts: 3 }).send("promise.get", { id: "retried" });
    await expect(answer).resolves.toMatchObject({ status: 200, data: { echo: "retried" } });
  });

  it("a refused upgrade is logged with its status and retried", async () => {
    fake.refuse = 401;
    const c = connect();
    await waitFor(() => fake.upgrades.length >= 3);
    expect(c.isOpen).toBe(false);
    const lost = warnings.filter((w) => w.message === "channel lost, reconnecting");
    expect(lost[0]!.fields.reason).toBe("the server refused the channel: HTTP 401: is the token right?");
    fake.refuse = 0;
    await c.whenOpen();
    expect(opens).toEqual([false]);
  });

  it("explains a 404: the server has no channel", async () => {
    fake.refuse = 404;
    connect();
    await waitFor(() => warnings.length >= 1);
    expect(warnings[0]!.fields.reason).toContain("HTTP 404: no channel at this url");
  });

  it("close() fails requests in flight with a TransportClosedError, later ones at once, and never reconnects", async () => {
    const c = connect();
    await c.whenOpen();
    const inFlight = c.post("{}", {}, 5_000, "in-flight");
    await waitFor(() => fake.frames.length === 1);
    c.close();
    await expect(inFlight).rejects.toBeInstanceOf(TransportClosedError);
    await expect(c.post("{}", {}, 5_000, "later")).rejects.toBeInstanceOf(TransportClosedError);
    expect(c.isOpen).toBe(false);
    await waitFor(() => fake.sockets.length === 0);
    await new Promise((r) => setTimeout(r, 150));
    expect(fake.upgrades).toHaveLength(1);
    expect(opens).toEqual([false]);
  });

  it("close() also fails requests still waiting for a socket, and stops the retries", async () => {
    fake.refuse = 503;
    const c = connect();
    const waiting = c.post("{}", {}, 5_000, "waiting");
    await waitFor(() => fake.upgrades.length >= 1);
    c.close();
    await expect(waiting).rejects.toBeInstanceOf(TransportClosedError);
    const upgrades = fake.upgrades.length;
    await new Promise((r) => setTimeout(r, 150));
    expect(fake.upgrades.length).toBe(upgrades);
  });

  it("messages.close() stops the messages but keeps the socket for requests", async () => {
    const c = connect();
    await c.messages.whenOpen();
    const ws = fake.sockets[0]!;
    echo(ws);
    c.messages.close();
    ws.send(`m${JSON.stringify(execute("late"))}`);
    await expect(client(c).send("promise.get", { id: "still" })).resolves.toMatchObject({ data: { echo: "still" } });
    expect(received).toEqual([]);
    expect(c.isOpen).toBe(true);
  });
});

describe("the transport option", () => {
  it("is \"http\" or \"websocket\"", () => {
    expect(() => new Resonate({ url: "http://x", transport: "ws" as "websocket" })).toThrow(ResonateConfigError);
    expect(() => new Resonate({ url: "http://x", transport: "ws" as "websocket" })).toThrow(/transport must be "http" or "websocket"/);
  });

  it("\"websocket\" joins the group over the channel and sends its requests there", async () => {
    const fake = await startFakeChannelServer();
    fake.onSocket = (ws) =>
      ws.on("message", (data) => {
        const answers = requestsOf(data.toString()).map((r) => fake.answer(r, 404, "not found"));
        ws.send(answers.join("\n"));
      });
    const r = new Resonate({ url: fake.url, group: "g", pid: "p", transport: "websocket", logger: silentLogger });
    try {
      await r.connected();
      // It asks for eager acquires: slots = its free slots (concurrency unbounded: the limit), ttl = the default 60 s.
      expect(fake.upgrades[0]!.url).toBe("/ws/g/p?slots=100000&ttl=60000");
      await expect(r.get("missing")).rejects.toMatchObject({ name: "PromiseNotFoundError" });
      expect(fake.frames.flatMap(requestsOf).map((e) => e.kind)).toContain("promise.get");
    } finally {
      await r.stop();
      await fake.close();
    }
  });

  it("\"websocket\" states its free slots when it opens, and reports them in an \"s\" item when the server's count falls behind", async () => {
    const fake = await startFakeChannelServer();
    fake.onSocket = (ws) =>
      ws.on("message", (data) => {
        // Answer the worker's own requests (its fulfills) with 200.
        const requests = data.toString().split("\n").filter((item) => item.startsWith("{")).map((item) => JSON.parse(item) as RequestEnvelope);
        if (requests.length > 0) ws.send(requests.map((r) => fake.answer(r, 200, {})).join("\n"));
      });
    const r = new Resonate({ url: fake.url, group: "g", pid: "p", transport: "websocket", concurrency: 2, ttl: 30_000, logger: silentLogger });
    const gates = new Map<string, () => void>();
    r.register("block", (ctx: Context) => new Promise<void>((resolve) => gates.set(ctx.id, resolve)));
    const items = () => fake.frames.flatMap((f) => f.split("\n"));
    const acquiredFor = (id: string) => {
      const task = { id, state: "acquired", version: 1, resumes: 0, ttl: 30_000, pid: "p" };
      const promise = promiseRecord(id, { param: encodeInvocation({ func: "block", args: [], version: 1 }) });
      return `t${JSON.stringify({ kind: "task.acquire", head: { corrId: `eager-${id}`, status: 200, version: PROTOCOL_VERSION }, data: { task, promise, preload: [] } })}`;
    };
    try {
      await r.connected();
      expect(fake.upgrades[0]!.url).toBe("/ws/g/p?slots=2&ttl=30000");
      // Two tasks acquired for it fill both slots: the server's count (2 − 2 sent) is right, nothing to say.
      fake.sockets[0]!.send(acquiredFor("b1"));
      fake.sockets[0]!.send(acquiredFor("b2"));
      await waitFor(() => gates.size === 2);
      expect(items()).toEqual([]); // no acquire of its own, no report
      // One finishes: its fulfill goes out, and once answered one slot is free that the server does not count.
      gates.get("b1")!();
      await waitFor(() => items().includes('s{"free":1,"seen":2}'));
      expect(items().filter((item) => item.startsWith("{")).map((item) => (JSON.parse(item) as RequestEnvelope).kind)).toEqual(["task.fulfill"]);
      gates.get("b2")!();
      await waitFor(() => items().includes('s{"free":2,"seen":2}'));
    } finally {
      await r.stop();
      await fake.close();
    }
  });
});

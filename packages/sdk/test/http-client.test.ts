import { createServer as createHttpServer } from "node:http";
import { createServer, type Socket } from "node:net";
import { PROTOCOL_VERSION, type RequestEnvelope } from "@resonate-compat/protocol";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { systemClock } from "../src/clock";
import { ResonateError, ResonateUnreachableError } from "../src/errors";
import { HttpClient } from "../src/http-client";
import { type FakeServer, silentLogger, startFakeServer, waitFor } from "./support/fake-server";

const fastRetry = { attempts: 3, initialDelay: 10, maxDelay: 50 };

describe("HttpClient", () => {
  let fake: FakeServer;
  let client: HttpClient;

  beforeEach(async () => {
    fake = await startFakeServer();
    client = new HttpClient({ url: fake.url, clock: systemClock, logger: silentLogger, retry: fastRetry, requestTimeout: 500 });
  });
  afterEach(async () => {
    client.stop();
    await fake.close();
  });

  it("sends one envelope with a fresh corrId and the protocol version, and returns the answer", async () => {
    fake.on("promise.get", () => ({ status: 200, data: { promise: { id: "p" } } }));
    const answer = await client.send("promise.get", { id: "p" });
    expect(answer).toEqual({ status: 200, data: { promise: { id: "p" } } });
    expect(fake.requests[0]).toMatchObject({ kind: "promise.get", head: { version: "2026-04-01" }, data: { id: "p" } });
    expect(fake.requests[0]!.head.corrId).toMatch(/^[0-9a-f-]{36}$/);
    expect(fake.requestHeaders[0]!["content-type"]).toBe("application/json");
    expect(fake.requestHeaders[0]!["content-length"]).toBe(String(Buffer.byteLength(JSON.stringify(fake.requests[0]))));
    expect(fake.requestHeaders[0]!.authorization).toBeUndefined();
  });

  it("returns protocol refusals (404, 409, 422) as answers, and ok() turns them into ResonateError", async () => {
    fake.on("task.acquire", () => ({ status: 409, data: "Task is not pending" }));
    const data = { id: "t", version: 0, pid: "w", ttl: 1000 };
    expect(await client.send("task.acquire", data)).toEqual({ status: 409, data: "Task is not pending" });
    const err = await client.ok("task.acquire", data).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ResonateError);
    expect(err).toMatchObject({ kind: "task.acquire", status: 409, serverMessage: "Task is not pending" });
    expect(fake.requests).toHaveLength(2); // a refusal is never retried
  });

  it("sends the token as a bearer header and as head.auth", async () => {
    const authed = new HttpClient({ url: fake.url, token: "tok", clock: systemClock, logger: silentLogger });
    await authed.send("promise.get", { id: "p" });
    authed.stop();
    expect(fake.requests[0]!.head.auth).toBe("tok");
    expect(fake.requestHeaders[0]!.authorization).toBe("Bearer tok");
  });

  it("retries a 503 with back-off and returns the answer that follows", async () => {
    fake.on("promise.get", (_req, i) => (i < 2 ? { status: 503, data: "busy" } : { status: 200, data: { promise: { id: "p" } } }));
    const answer = await client.send("promise.get", { id: "p" });
    expect(answer.status).toBe(200);
    expect(fake.requests).toHaveLength(3);
  });

  it("gives up after the last attempt with an error that names the url and the reason", async () => {
    fake.on("promise.get", () => ({ status: 500, data: "Internal error" }));
    const err = (await client.send("promise.get", { id: "p" }).catch((e: unknown) => e)) as ResonateUnreachableError;
    expect(err).toBeInstanceOf(ResonateUnreachableError);
    expect(err).toMatchObject({ url: fake.url, kind: "promise.get", attempts: 3, httpStatus: 500 });
    expect(err.message).toContain(`at ${fake.url}`);
    expect(err.message).toContain("HTTP 500: Internal error");
  });

  it("does not retry a deterministic 400 and reports the server's message", async () => {
    fake.on("promise.create", () => ({ status: 400, data: "Invalid resonate:target address" }));
    const err = (await client.send("promise.create", { id: "p", timeoutAt: 1, param: {}, tags: {} }).catch((e: unknown) => e)) as ResonateUnreachableError;
    expect(err).toBeInstanceOf(ResonateUnreachableError);
    expect(err).toMatchObject({ attempts: 1, httpStatus: 400 });
    expect(err.message).toContain("Invalid resonate:target address");
    expect(fake.requests).toHaveLength(1);
  });

  it("treats a plain-text 404 as 'not a Resonate server', not as 'promise not found'", async () => {
    fake.on("promise.get", () => ({ raw: 404, body: "Not Found" }));
    const err = await client.send("promise.get", { id: "p" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ResonateUnreachableError);
    expect((err as Error).message).toMatch(/is this url a Resonate server/);
  });

  it("treats an answer to another request as a platform failure", async () => {
    fake.on("promise.get", () => ({ raw: 200, contentType: "application/json", body: JSON.stringify({ kind: "promise.get", head: { corrId: "other", status: 200 }, data: {} }) }));
    const err = await client.send("promise.get", { id: "p" }).catch((e: unknown) => e);
    expect((err as Error).message).toContain("does not match the request");
    expect(fake.requests).toHaveLength(3);
  });

  it("times out a request that gets no answer", async () => {
    fake.on("promise.get", () => "hang");
    const slow = new HttpClient({ url: fake.url, clock: systemClock, logger: silentLogger, retry: { ...fastRetry, attempts: 1 }, requestTimeout: 100 });
    const err = await slow.send("promise.get", { id: "p" }).catch((e: unknown) => e);
    slow.stop();
    expect((err as Error).message).toContain("no answer within 100 ms");
  });

  it("reports a refused connection with the url", async () => {
    const port = await freePort();
    const dead = new HttpClient({ url: `http://127.0.0.1:${port}`, clock: systemClock, logger: silentLogger, retry: fastRetry });
    const err = (await dead.send("promise.get", { id: "p" }).catch((e: unknown) => e)) as ResonateUnreachableError;
    dead.stop();
    expect(err).toBeInstanceOf(ResonateUnreachableError);
    expect(err.attempts).toBe(3);
    expect(err.message).toContain(`http://127.0.0.1:${port}`);
    expect(err.message).toContain(`connect ECONNREFUSED 127.0.0.1:${port}`);
  });

  it("stop() cuts an in-flight request and its retries", async () => {
    fake.on("promise.get", () => "hang");
    const slow = new HttpClient({ url: fake.url, clock: systemClock, logger: silentLogger, retry: { attempts: 5, initialDelay: 10_000, maxDelay: 10_000 } });
    const pending = slow.send("promise.get", { id: "p" }).catch((e: unknown) => e);
    await fake.waitFor(() => fake.requests.length === 1);
    const started = Date.now();
    slow.stop();
    const err = await pending;
    expect((err as Error).message).toContain("the SDK was stopped");
    expect(Date.now() - started).toBeLessThan(1_000);
    await expect(slow.send("promise.get", { id: "p" })).rejects.toThrow(/stopped/);
  });
});

describe("HttpClient connections", () => {
  let server: CountingServer;
  let client: HttpClient | undefined;

  afterEach(async () => {
    client?.stop();
    client = undefined;
    await server.close();
  });

  function connect(options: { maxConnections?: number; requestTimeout?: number; path?: string } = {}): HttpClient {
    const { path = "", ...rest } = options;
    client = new HttpClient({ url: server.url + path, clock: systemClock, logger: silentLogger, retry: { attempts: 1, initialDelay: 10, maxDelay: 10 }, ...rest });
    return client;
  }

  it("reuses one keep-alive connection for sequential requests", async () => {
    server = await startCountingServer();
    const http = connect();
    for (let i = 0; i < 50; i++) {
      expect(await http.send("promise.get", { id: `p${i}` })).toEqual({ status: 200, data: { id: `p${i}` } });
    }
    expect(server.answered).toBe(50);
    expect(server.connections).toBe(1);
    http.stop(); // also closes the idle connection
    await waitFor(() => server.open === 0, 2_000);
  });

  it("posts to exactly the url, path included", async () => {
    server = await startCountingServer();
    await connect({ path: "/resonate/api" }).send("promise.get", { id: "p" });
    expect(server.paths).toEqual(["/resonate/api"]);
  });

  it("never opens more than maxConnections sockets; the other requests queue and are all answered", async () => {
    server = await startCountingServer({ delay: 20 });
    const http = connect({ maxConnections: 4 });
    const answers = await Promise.all(Array.from({ length: 40 }, (_, i) => http.send("promise.get", { id: `p${i}` })));
    expect(answers.map((a) => a.data)).toEqual(Array.from({ length: 40 }, (_, i) => ({ id: `p${i}` })));
    expect(server.answered).toBe(40);
    expect(server.maxOpen).toBeLessThanOrEqual(4);
    expect(server.connections).toBeLessThanOrEqual(4);
  });

  it("counts the time queued for a socket in the request timeout", async () => {
    server = await startCountingServer({ hang: true });
    const http = connect({ maxConnections: 1, requestTimeout: 400 });
    const first = http.send("promise.get", { id: "a" }).catch((e: unknown) => e);
    await waitFor(() => server.received === 1);
    await new Promise((resolve) => setTimeout(resolve, 200));
    // The only socket is busy until `first` times out (about 200 ms from now): `second` waits for it.
    const started = Date.now();
    const err = await http.send("promise.get", { id: "b" }).catch((e: unknown) => e);
    const elapsed = Date.now() - started;
    expect(err).toBeInstanceOf(ResonateUnreachableError);
    expect((err as Error).message).toContain("no answer within 400 ms");
    expect((await first as Error).message).toContain("no answer within 400 ms");
    // A timer started only once a socket was free would fire about 200 ms later than this.
    expect(elapsed).toBeGreaterThanOrEqual(390);
    expect(elapsed).toBeLessThan(550);
  });

  it("stop() fails in-flight and queued requests at once and closes every socket", async () => {
    server = await startCountingServer({ hang: true });
    const http = connect({ maxConnections: 4, requestTimeout: 10_000 });
    const pending = Array.from({ length: 10 }, (_, i) => http.send("promise.get", { id: `p${i}` }).catch((e: unknown) => e));
    await waitFor(() => server.received === 4); // 4 on the wire, 6 queued in the client
    const started = Date.now();
    http.stop();
    const errors = await Promise.all(pending);
    expect(Date.now() - started).toBeLessThan(500);
    for (const err of errors) {
      expect(err).toBeInstanceOf(ResonateUnreachableError);
      expect((err as Error).message).toContain("the SDK was stopped");
    }
    await waitFor(() => server.open === 0, 2_000);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(server.connections).toBe(4); // and no new socket was opened for the queued requests
    expect(server.open).toBe(0);
    await expect(http.send("promise.get", { id: "late" })).rejects.toThrow(/the SDK was stopped/);
    expect(server.connections).toBe(4);
  });
});

interface CountingServer {
  url: string;
  /** Sockets accepted so far, open now, and most open at once. */
  connections: number;
  open: number;
  maxOpen: number;
  /** Requests read, requests answered, and the path of each. */
  received: number;
  answered: number;
  paths: string[];
  close(): Promise<void>;
}

/** A node:http server on 127.0.0.1 that answers every envelope with 200 {id} (after `delay` ms, or never) and counts sockets. */
async function startCountingServer(options: { delay?: number; hang?: boolean } = {}): Promise<CountingServer> {
  const sockets = new Set<Socket>();
  const server = createHttpServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      counting.received++;
      counting.paths.push(req.url ?? "");
      if (options.hang) return;
      const envelope = JSON.parse(Buffer.concat(chunks).toString("utf8")) as RequestEnvelope;
      const answer = { kind: envelope.kind, head: { corrId: envelope.head.corrId, status: 200, version: PROTOCOL_VERSION }, data: { id: (envelope.data as { id: string }).id } };
      setTimeout(() => {
        counting.answered++;
        res.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify(answer));
      }, options.delay ?? 0);
    });
  });
  server.on("connection", (socket: Socket) => {
    sockets.add(socket);
    counting.connections++;
    counting.open++;
    counting.maxOpen = Math.max(counting.maxOpen, counting.open);
    socket.on("close", () => {
      sockets.delete(socket);
      counting.open--;
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const counting: CountingServer = {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    connections: 0,
    open: 0,
    maxOpen: 0,
    received: 0,
    answered: 0,
    paths: [],
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return counting;
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

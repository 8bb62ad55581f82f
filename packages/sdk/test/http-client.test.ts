import { createServer } from "node:net";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { systemClock } from "../src/clock";
import { ResonateError, ResonateUnreachableError } from "../src/errors";
import { HttpClient } from "../src/http-client";
import { type FakeServer, silentLogger, startFakeServer } from "./support/fake-server";

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
    expect((err as Error).message).toContain("no answer within 100 ms");
  });

  it("reports a refused connection with the url", async () => {
    const port = await freePort();
    const dead = new HttpClient({ url: `http://127.0.0.1:${port}`, clock: systemClock, logger: silentLogger, retry: fastRetry });
    const err = (await dead.send("promise.get", { id: "p" }).catch((e: unknown) => e)) as ResonateUnreachableError;
    expect(err).toBeInstanceOf(ResonateUnreachableError);
    expect(err.attempts).toBe(3);
    expect(err.message).toContain(`http://127.0.0.1:${port}`);
    expect(err.message).toContain("ECONNREFUSED");
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

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

import type { Message } from "@resonate-compat/protocol";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { systemClock } from "../src/clock";
import { PollConnection } from "../src/poll-connection";
import { type FakeServer, silentLogger, startFakeServer } from "./support/fake-server";

const execute = (id: string, version = 0) => ({ kind: "execute", head: { serverUrl: "http://x" }, data: { task: { id, version } } });

describe("PollConnection", () => {
  let fake: FakeServer;
  let connection: PollConnection | undefined;
  const received: Message[] = [];
  const opens: boolean[] = [];

  beforeEach(async () => {
    fake = await startFakeServer();
    received.length = 0;
    opens.length = 0;
  });
  afterEach(async () => {
    connection?.close();
    await fake.close();
  });

  function connect(overrides: { token?: string; group?: string; pid?: string; onMessage?: (m: Message) => void } = {}) {
    connection = new PollConnection({
      url: `${fake.url}/`,
      group: overrides.group ?? "workers",
      pid: overrides.pid ?? "w1",
      token: overrides.token,
      clock: systemClock,
      logger: silentLogger,
      backoff: { initial: 50, max: 200 },
      onMessage: overrides.onMessage ?? ((m) => received.push(m)),
      onOpen: (reconnected) => opens.push(reconnected),
    });
    connection.start();
    return connection;
  }

  it("opens GET /poll/{group}/{pid} and delivers well-formed messages", async () => {
    const c = connect({ group: "my group", pid: "p/1" });
    expect(c.pollUrl).toBe(`${fake.url}/poll/my%20group/p%2F1`);
    await c.whenOpen();
    expect(fake.pollAttempts[0]).toMatchObject({ group: "my group", pid: "p/1" });
    expect(fake.pollAttempts[0]!.headers.accept).toBe("text/event-stream");
    fake.push(execute("a"));
    fake.push({ kind: "unblock", head: {}, data: { promise: { id: "b", state: "resolved" } } });
    await fake.waitFor(() => received.length === 2);
    expect(received.map((m) => m.kind)).toEqual(["execute", "unblock"]);
    expect(opens).toEqual([false]);
  });

  it("drops malformed messages and ignores comments, without closing the stream", async () => {
    const c = connect();
    await c.whenOpen();
    const stream = fake.streams[0]!;
    stream.res.write(": ping\n\n");
    stream.res.write("data: {not json\n\n");
    fake.push({ kind: "execute", data: { task: { id: "no head", version: 0 } } });
    fake.push({ kind: "execute", head: {}, data: { task: { id: "bad version", version: "0" } } });
    fake.push({ kind: "frobnicate", head: {}, data: {} });
    fake.push(execute("good"));
    await fake.waitFor(() => received.length === 1);
    expect(received[0]).toMatchObject({ data: { task: { id: "good" } } });
    expect(c.isOpen).toBe(true);
  });

  it("delivers messages split across chunks and ignores named events, as an EventSource's onmessage", async () => {
    const c = connect();
    await c.whenOpen();
    const stream = fake.streams[0]!;
    const text = `data: ${JSON.stringify(execute("split"))}\n\n`;
    stream.res.write(text.slice(0, 17));
    await new Promise((r) => setTimeout(r, 20));
    stream.res.write(text.slice(17));
    stream.res.write(`event: other\ndata: ${JSON.stringify(execute("named"))}\n\n`);
    stream.res.write(`event: message\ndata: ${JSON.stringify(execute("message"))}\n\n`);
    await fake.waitFor(() => received.length === 2);
    await new Promise((r) => setTimeout(r, 50));
    expect(received.map((m) => (m.data as { task: { id: string } }).task.id)).toEqual(["split", "message"]);
  });

  it("reopens a stream the server ended cleanly", async () => {
    const c = connect();
    await c.whenOpen();
    fake.streams.splice(0)[0]!.res.end();
    await fake.waitFor(() => opens.length === 2);
    expect(c.isOpen).toBe(true);
    expect(fake.pollAttempts.length).toBe(2);
  });

  it("does not take a 200 that is not an event stream for an open stream, and keeps retrying", async () => {
    fake.pollHtml = true;
    const c = connect();
    await fake.waitFor(() => fake.pollAttempts.length >= 3, 3_000);
    expect(c.isOpen).toBe(false);
    expect(opens).toEqual([]);
    fake.pollHtml = false;
    await c.whenOpen();
    expect(opens).toEqual([false]);
  });

  it("a handler that throws neither closes the stream nor escapes", async () => {
    const c = connect({
      onMessage: (m) => {
        received.push(m);
        if (received.length === 1) throw new Error("handler bug");
      },
    });
    await c.whenOpen();
    fake.push(execute("first"));
    fake.push(execute("second"));
    await fake.waitFor(() => received.length === 2);
    expect(c.isOpen).toBe(true);
    expect(fake.pollAttempts.length).toBe(1);
  });

  it("sends the token as a bearer header", async () => {
    const c = connect({ token: "tok" });
    await c.whenOpen();
    expect(fake.pollAttempts[0]!.headers.authorization).toBe("Bearer tok");
  });

  it("reconnects after the stream drops and reports the reopen", async () => {
    const c = connect();
    await c.whenOpen();
    fake.dropStreams();
    await fake.waitFor(() => opens.length === 2);
    expect(opens).toEqual([false, true]);
    fake.push(execute("after"));
    await fake.waitFor(() => received.length === 1);
  });

  it("backs off exponentially while the server refuses the stream, then recovers", async () => {
    fake.pollStatus = 503;
    const c = connect();
    await fake.waitFor(() => fake.pollAttempts.length >= 4, 3_000);
    const gaps = fake.pollAttempts.slice(1, 4).map((a, i) => a.at - fake.pollAttempts[i]!.at);
    // 50, 100, 200 ms (± scheduling): each gap at least the back-off, growing.
    expect(gaps[0]).toBeGreaterThanOrEqual(45);
    expect(gaps[1]).toBeGreaterThanOrEqual(95);
    expect(gaps[2]).toBeGreaterThanOrEqual(190);
    fake.pollStatus = 200;
    await c.whenOpen();
    expect(opens).toEqual([false]);
  });

  it("close() ends the stream and stops reconnecting", async () => {
    const c = connect();
    await c.whenOpen();
    c.close();
    await fake.waitFor(() => fake.streams.length === 0);
    const attempts = fake.pollAttempts.length;
    await new Promise((r) => setTimeout(r, 300));
    expect(fake.pollAttempts.length).toBe(attempts);
  });
});

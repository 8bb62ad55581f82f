import { afterAll, afterEach, beforeAll, expect, it, onTestFinished } from "vitest";
import WebSocket from "ws";
import { type Backend, startBackend } from "./backend";
import { openEventStream } from "./sse-client";

export interface StartedProxy {
  url: string;
  stop(): Promise<void>;
}

async function post(url: string, body: string): Promise<{ backend: string; body: string }> {
  const response = await fetch(`${url}/`, { method: "POST", body, headers: { "content-type": "application/json" } });
  expect(response.status).toBe(200);
  return (await response.json()) as { backend: string; body: string };
}

/**
 * What any proxy configuration we ship must do for the server's traffic; registered inside a
 * describe() of the proxy's test file. `ready` waits until the proxy sends traffic to every backend.
 */
export function proxyContract(start: (backends: string[]) => Promise<StartedProxy>, ready: (proxy: StartedProxy) => Promise<void>): void {
  let a: Backend;
  let b: Backend;
  let proxy: StartedProxy | undefined;

  beforeAll(async () => {
    [a, b] = await Promise.all([startBackend("a"), startBackend("b")]);
  });
  afterEach(async () => {
    await proxy?.stop();
    proxy = undefined;
  });
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
  });

  it("round-trips a POST and spreads POSTs over the replicas", async () => {
    proxy = await start([a.url, b.url]);
    await ready(proxy);
    const seen = new Set<string>();
    for (let i = 0; i < 6; i++) {
      const answer = await post(proxy.url, `{"n":${i}}`);
      expect(answer.body).toBe(`{"n":${i}}`);
      seen.add(answer.backend);
    }
    expect([...seen].sort()).toEqual(["a", "b"]);
  });

  it("passes a stream through unbuffered: headers at once, each event as soon as it is written", async () => {
    proxy = await start([a.url]);
    const stream = await openEventStream(`${proxy.url}/poll/workers/w1`);
    expect(stream.status).toBe(200);
    expect(stream.headers["content-type"]).toBe("text/event-stream");
    const delays: number[] = [];
    for (let i = 0; i < 7; i++) {
      // Written well after the stream opened, one at a time: nothing can ride along with another.
      await new Promise((resolve) => setTimeout(resolve, 100));
      const sent = performance.now();
      expect(await a.emit(`event ${i}`)).toBe(1);
      const event = await stream.next(2000);
      expect(event.data).toBe(`event ${i}`);
      delays.push(event.at - sent);
    }
    stream.close();
    // A buffering proxy holds events until the stream ends; HAProxy without http-no-delay holds
    // each one 200 ms or more. On loopback they take a few ms; the median keeps a busy machine's
    // stray delays out of the verdict.
    delays.sort((x, y) => x - y);
    expect(delays[3]).toBeLessThan(150);
  });

  it("passes the channel through: a WebSocket at /ws/… upgraded with its subprotocol, frames both ways at once", async () => {
    proxy = await start([a.url]);
    const ws = new WebSocket(`${proxy.url.replace("http", "ws")}/ws/workers/w1`, "resonate-channel.2026-04-01");
    onTestFinished(() => ws.terminate());
    await new Promise((resolve, reject) => {
      ws.once("open", resolve);
      ws.once("error", reject);
    });
    expect(ws.protocol).toBe("resonate-channel.2026-04-01");
    for (let i = 0; i < 3; i++) {
      const echoed = new Promise<string>((resolve) => ws.once("message", (data) => resolve(data.toString())));
      ws.send(`frame ${i}`);
      expect(await echoed).toBe(`a:frame ${i}`);
    }
  });

  it("after SIGKILL of a replica: its streams end, and new requests and streams reach the other", async () => {
    const victim = await startBackend("victim");
    onTestFinished(() => victim.stop());
    proxy = await start([victim.url, b.url]);
    await ready(proxy);

    // With no connection open, the two streams land one on each replica; keep the victim's.
    const streams = await Promise.all([1, 2].map((i) => openEventStream(`${proxy!.url}/poll/workers/w${i}`)));
    onTestFinished(() => streams.forEach((stream) => stream.close()));
    const onVictim = streams.find((stream) => stream.headers["x-backend"] === "victim");
    expect(onVictim).toBeDefined();

    const killedAt = performance.now();
    await victim.kill("SIGKILL");
    await onVictim!.closed;
    const streamEndedAfter = performance.now() - killedAt;

    // The first POST after the kill already succeeds: a refused connection is retried elsewhere.
    for (let i = 0; i < 4; i++) expect((await post(proxy.url, "{}")).backend).toBe("b");
    const fresh = await openEventStream(`${proxy.url}/poll/workers/w3`);
    onTestFinished(() => fresh.close());
    expect(fresh.headers["x-backend"]).toBe("b");
    expect(await b.emit("after failover")).toBeGreaterThanOrEqual(1);
    expect((await fresh.next(2000)).data).toBe("after failover");
    const recoveredAfter = performance.now() - killedAt;
    console.log(
      `failover: the victim's stream ended ${streamEndedAfter.toFixed(0)} ms and POSTs and a new stream ` +
        `reached the other replica ${recoveredAfter.toFixed(0)} ms after SIGKILL`,
    );
    expect(recoveredAfter).toBeLessThan(3000);
  });
}

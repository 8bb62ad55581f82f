// The shipped HAProxy configuration in front of the real server (what `pnpm server` runs), with
// the protocol's own traffic: a worker's poll stream and a POST that gives that worker work.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ProxyHandle, startProxy } from "../src/index";
import { type RealServer, startRealServer } from "./helpers/real-server";
import { openEventStream } from "./helpers/sse-client";

const PROTOCOL_VERSION = "2026-04-01";

describe("HAProxy in front of the real server", () => {
  let server: RealServer;
  let proxy: ProxyHandle;
  beforeAll(async () => {
    server = await startRealServer();
    proxy = await startProxy({ backends: [server.url] });
    await proxy.waitForServer(0, "UP");
  });
  afterAll(async () => {
    await proxy?.stop();
    await server?.kill("SIGTERM");
  });

  it("a stream opened through the proxy receives the execute of a promise created later through it", async () => {
    const stream = await openEventStream(`${proxy.url}/poll/workers/w1`);
    try {
      expect(stream.status).toBe(200);
      // The server registers the stream just after sending its headers.
      await new Promise((resolve) => setTimeout(resolve, 200));
      const id = `through-proxy-${Date.now()}`;
      const response = await fetch(`${proxy.url}/`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          kind: "promise.create",
          head: { corrId: "c1", version: PROTOCOL_VERSION },
          data: { id, timeoutAt: Date.now() + 3_600_000, tags: { "resonate:target": "poll://any@workers" } },
        }),
      });
      expect(response.status).toBe(200);
      const answer = (await response.json()) as { kind: string; head: { status: number } };
      expect(answer.kind).toBe("promise.create");
      expect(answer.head.status).toBe(200);
      const event = await stream.next(5000);
      const message = JSON.parse(event.data) as { kind: string; data: { task: { id: string } } };
      expect(message.kind).toBe("execute");
      expect(message.data.task.id).toBe(id);
    } finally {
      stream.close();
    }
  });
});

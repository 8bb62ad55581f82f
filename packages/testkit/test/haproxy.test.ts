import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname } from "node:path";
import { afterEach, describe, expect, it, onTestFinished } from "vitest";
import { HAPROXY_TEMPLATE, type ProxyHandle, renderHaproxyConfig, startProxy } from "../src/index";
import { findExecutable } from "../src/find-executable";
import { startBackend } from "./helpers/backend";
import { isAlive } from "./helpers/processes";
import { proxyContract } from "./helpers/proxy-contract";
import { openEventStream } from "./helpers/sse-client";

describe("startProxy: HAProxy from deploy/haproxy/resonate.cfg", () => {
  proxyContract(
    (backends) => startProxy({ backends }),
    async (proxy) => {
      const haproxy = proxy as ProxyHandle;
      for (let i = 0; i < (await haproxy.servers()).length; i++) await haproxy.waitForServer(i, "UP");
    },
  );

  let proxy: ProxyHandle | undefined;
  afterEach(async () => {
    await proxy?.stop();
    proxy = undefined;
  });

  it("keeps every line of the shipped configuration but the bind and server lines, and HAProxy accepts it", () => {
    const template = readFileSync(HAPROXY_TEMPLATE, "utf8");
    const rendered = renderHaproxyConfig(template, { host: "127.0.0.1", port: 4000 }, [
      { host: "127.0.0.1", port: 4001 },
      { host: "::1", port: 4002 },
    ], "/tmp/x.sock");
    expect(rendered).toMatch(/^\s+bind 127\.0\.0\.1:4000$/m);
    expect(rendered.match(/^\s+server .*$/gm)).toEqual(["    server replica1 127.0.0.1:4001", "    server replica2 ipv6@::1:4002"]);
    const unchanged = (text: string) => text.split("\n").filter((line) => !/^\s*(bind|server|stats socket|# Added by)/.test(line) && !line.includes("Added by packages/testkit"));
    expect(unchanged(rendered)).toEqual(unchanged(template));
    const path = `${tmpdir()}/resonate-haproxy-check-${process.pid}.cfg`;
    writeFileSync(path, rendered);
    onTestFinished(() => rmSync(path, { force: true }));
    execFileSync(findExecutable("haproxy")!, ["-c", "-q", "-f", path]);
  });

  it("cuts the streams of a replica whose /ready fails, so that workers reconnect elsewhere", async () => {
    const [sick, healthy] = await Promise.all([startBackend("sick"), startBackend("healthy")]);
    onTestFinished(() => Promise.all([sick.stop(), healthy.stop()]).then(() => {}));
    proxy = await startProxy({ backends: [sick.url, healthy.url] });
    await proxy.waitForServer(0, "UP");
    await proxy.waitForServer(1, "UP");
    const streams = await Promise.all([1, 2].map((i) => openEventStream(`${proxy!.url}/poll/workers/s${i}`)));
    onTestFinished(() => streams.forEach((stream) => stream.close()));
    const onSick = streams.find((stream) => stream.headers["x-backend"] === "sick")!;
    expect(onSick).toBeDefined();
    // The process lives and keeps its connections; only its health check fails.
    await sick.unready();
    await proxy.waitForServer(0, "DOWN", 3000);
    await onSick.closed;
    const again = await openEventStream(`${proxy.url}/poll/workers/s1`);
    again.close();
    expect(again.headers["x-backend"]).toBe("healthy");
  });

  it("marks a SIGKILLed replica DOWN within a few seconds (about 0.75 s: two failed checks)", async () => {
    const [victim, other] = await Promise.all([startBackend("victim"), startBackend("other")]);
    onTestFinished(() => Promise.all([victim.stop(), other.stop()]).then(() => {}));
    proxy = await startProxy({ backends: [victim.url, other.url] });
    await proxy.waitForServer(0, "UP");
    const killedAt = performance.now();
    await victim.kill("SIGKILL");
    await proxy.waitForServer(0, "DOWN", 3000);
    console.log(`HAProxy marked the SIGKILLed replica DOWN after ${(performance.now() - killedAt).toFixed(0)} ms`);
    expect((await proxy.servers()).map((server) => server.status)).toEqual(["DOWN", "UP"]);
  });

  it("stop() ends HAProxy and removes its folder", async () => {
    const backend = await startBackend("lonely");
    onTestFinished(() => backend.stop());
    const started = await startProxy({ backends: [backend.url] });
    expect(isAlive(started.pid)).toBe(true);
    expect(existsSync(started.configFile)).toBe(true);
    await started.stop();
    expect(isAlive(started.pid)).toBe(false);
    expect(existsSync(dirname(started.configFile))).toBe(false);
    await expect(fetch(started.url)).rejects.toThrow();
    await started.stop();
  });
});

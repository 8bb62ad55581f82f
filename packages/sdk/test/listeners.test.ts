import { describe, expect, it } from "vitest";
import { ManualClock } from "../src/clock";
import { PromiseNotFoundError, ResonateError, ResonateStoppedError, ResonateUnreachableError } from "../src/errors";
import { Listeners } from "../src/listeners";
import { FakeHttp, flush } from "./support/fake-http";
import { promiseRecord, silentLogger } from "./support/fake-server";

const ADDRESS = "poll://uni@client/c1";

function setup() {
  const clock = new ManualClock();
  const http = new FakeHttp();
  const listeners = new Listeners({ http, address: ADDRESS, clock, logger: silentLogger, refreshInterval: 60_000, retryDelay: 5_000 });
  return { clock, http, listeners };
}

describe("Listeners", () => {
  it("registers a listener with the unicast address and resolves on the unblock", async () => {
    const { http, listeners, clock } = setup();
    http.on("promise.register_listener", () => ({ status: 200, data: { promise: promiseRecord("p") } }));
    const waiting = listeners.wait("p");
    await flush();
    expect(http.callsOf("promise.register_listener")).toEqual([{ awaited: "p", address: ADDRESS }]);
    const settled = promiseRecord("p", { state: "resolved", settledAt: 1 });
    listeners.onUnblock(settled as never);
    await expect(waiting).resolves.toEqual(settled);
    expect(listeners.size).toBe(0);
    expect(clock.pending).toBe(0); // no refresh timer once nothing is awaited
  });

  it("resolves from the registration answer when the promise is already settled", async () => {
    const { http, listeners } = setup();
    http.on("promise.register_listener", () => ({ status: 200, data: { promise: promiseRecord("p", { state: "rejected_timedout" }) } }));
    await expect(listeners.wait("p")).resolves.toMatchObject({ state: "rejected_timedout" });
  });

  it("shares one wait between callers of the same id", async () => {
    const { http, listeners } = setup();
    http.on("promise.register_listener", () => ({ status: 200, data: { promise: promiseRecord("p") } }));
    const a = listeners.wait("p");
    const b = listeners.wait("p");
    expect(a).toBe(b);
    await flush();
    expect(http.callsOf("promise.register_listener")).toHaveLength(1);
  });

  it("re-registers every refresh interval, so a lost unblock is recovered", async () => {
    const { http, listeners, clock } = setup();
    http.on("promise.register_listener", (_d, i) => ({ status: 200, data: { promise: promiseRecord("p", i < 2 ? {} : { state: "resolved" }) } }));
    const waiting = listeners.wait("p");
    await flush();
    clock.advance(60_000);
    await flush();
    expect(http.callsOf("promise.register_listener")).toHaveLength(2);
    clock.advance(60_000);
    await expect(waiting).resolves.toMatchObject({ state: "resolved" });
  });

  it("rejects with PromiseNotFoundError on 404 and a ResonateError on other refusals", async () => {
    const { http, listeners } = setup();
    http.on("promise.register_listener", (d) => (d.awaited === "gone" ? { status: 404, data: "Awaited promise not found" } : { status: 422, data: "nope" }));
    await expect(listeners.wait("gone")).rejects.toBeInstanceOf(PromiseNotFoundError);
    await expect(listeners.wait("other")).rejects.toBeInstanceOf(ResonateError);
  });

  it("keeps trying while the server cannot be reached", async () => {
    const { http, listeners, clock } = setup();
    http.on("promise.register_listener", (_d, i) =>
      i < 2 ? new ResonateUnreachableError("u", "promise.register_listener", 4, "down") : { status: 200, data: { promise: promiseRecord("p", { state: "resolved" }) } },
    );
    const waiting = listeners.wait("p");
    await flush();
    clock.advance(5_000);
    await flush();
    clock.advance(5_000);
    await expect(waiting).resolves.toMatchObject({ state: "resolved" });
    expect(http.callsOf("promise.register_listener")).toHaveLength(3);
  });

  it("stop() rejects outstanding waits and leaves no timer behind", async () => {
    const { http, listeners, clock } = setup();
    http.on("promise.register_listener", () => new ResonateUnreachableError("u", "k", 1, "down"));
    const waiting = listeners.wait("p");
    await flush();
    listeners.stop();
    await expect(waiting).rejects.toBeInstanceOf(ResonateStoppedError);
    await flush();
    expect(clock.pending).toBe(0);
    await expect(listeners.wait("q")).rejects.toBeInstanceOf(ResonateStoppedError);
  });
});

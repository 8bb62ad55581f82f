import { describe, expect, it } from "vitest";
import { ManualClock } from "../src/clock";
import { AsyncHeartbeat } from "../src/heartbeat";
import { FakeHttp, flush } from "./support/fake-http";
import { silentLogger } from "./support/fake-server";

describe("AsyncHeartbeat", () => {
  function setup() {
    const clock = new ManualClock();
    const http = new FakeHttp();
    const heartbeat = new AsyncHeartbeat("w1", 1_000, http, clock, silentLogger);
    return { clock, http, heartbeat };
  }

  it("sends nothing while no task is held", async () => {
    const { clock, http } = setup();
    clock.advance(10_000);
    await flush();
    expect(http.calls).toHaveLength(0);
    expect(clock.pending).toBe(0);
  });

  it("names every held task with its version, every interval", async () => {
    const { clock, http, heartbeat } = setup();
    heartbeat.start({ id: "a", version: 1 });
    clock.advance(999);
    expect(http.calls).toHaveLength(0);
    clock.advance(1);
    heartbeat.start({ id: "b", version: 3 });
    clock.advance(1_000);
    await flush();
    expect(http.callsOf("task.heartbeat")).toEqual([
      { pid: "w1", tasks: [{ id: "a", version: 1 }] },
      { pid: "w1", tasks: [{ id: "a", version: 1 }, { id: "b", version: 3 }] },
    ]);
  });

  it("stops naming a task once it is finished, and stops beating when none is left", async () => {
    const { clock, http, heartbeat } = setup();
    heartbeat.start({ id: "a", version: 1 });
    heartbeat.start({ id: "b", version: 1 });
    heartbeat.stop({ id: "a", version: 2 }); // another version: still held at 1
    heartbeat.stop({ id: "b", version: 1 });
    clock.advance(1_000);
    await flush();
    expect(http.callsOf("task.heartbeat")).toEqual([{ pid: "w1", tasks: [{ id: "a", version: 1 }] }]);
    heartbeat.stop({ id: "a", version: 1 });
    expect(clock.pending).toBe(0);
  });

  it("stop() without a task forgets everything and cancels the timer", () => {
    const { clock, heartbeat } = setup();
    heartbeat.start({ id: "a", version: 1 });
    heartbeat.stop();
    expect(heartbeat.tasks).toEqual([]);
    expect(clock.pending).toBe(0);
  });

  it("a failed heartbeat is logged, not thrown, and the next one goes out", async () => {
    const { clock, http, heartbeat } = setup();
    http.on("task.heartbeat", (_d, i) => (i === 0 ? new Error("down") : { status: 200, data: {} }));
    heartbeat.start({ id: "a", version: 1 });
    clock.advance(2_000);
    await flush();
    expect(http.callsOf("task.heartbeat")).toHaveLength(2);
  });
});

import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { decode, encode } from "../src/codec";
import { ManualClock } from "../src/clock";
import { PromiseNotFoundError, ResonateConfigError, ResonateStoppedError, ResonateUnreachableError } from "../src/errors";
import { Resonate } from "../src/resonate";
import { type FakeServer, promiseRecord, silentLogger, startFakeServer } from "./support/fake-server";

// Resonate wired to a scripted fake server: what goes on the wire, and how answers are read.
describe("Resonate", () => {
  let fake: FakeServer;
  const instances: Resonate[] = [];

  beforeEach(async () => {
    fake = await startFakeServer();
    // By default the server stores what it is given.
    fake.on("promise.create", (req) => {
      const d = req.data as { id: string; param: unknown; tags: unknown; timeoutAt: number };
      return { status: 200, data: { promise: promiseRecord(d.id, { param: d.param, tags: d.tags, timeoutAt: d.timeoutAt }) } };
    });
    fake.on("promise.register_listener", (req) => ({ status: 200, data: { promise: promiseRecord((req.data as { awaited: string }).awaited) } }));
  });
  afterEach(async () => {
    await Promise.all(instances.splice(0).map((r) => r.stop()));
    await fake.close();
  });

  function resonate(config: ConstructorParameters<typeof Resonate>[0] = {}) {
    const r = new Resonate({ url: fake.url, logger: silentLogger, retry: { attempts: 2, initialDelay: 10, maxDelay: 10 }, ...config });
    instances.push(r);
    return r;
  }

  it("refuses to start without a url, saying why", () => {
    expect(() => new Resonate({})).toThrow(ResonateConfigError);
    expect(() => new Resonate({})).toThrow(/needs a server url/);
    expect(() => new Resonate({ url: "ftp://x" })).toThrow(/http\(s\)/);
    expect(() => new Resonate({ url: "http://x", ttl: 0 })).toThrow(/ttl/);
    expect(() => new Resonate({ url: "http://x", concurrency: 0 })).toThrow(/concurrency/);
    expect(() => new Resonate({ url: "http://x", maxConnections: 0 })).toThrow(/maxConnections must be a positive integer/);
  });

  it("joins its group on the poll stream with a 32-hex pid, and knows its addresses", async () => {
    const r = resonate({ group: "client" });
    await r.connected();
    expect(r.pid).toMatch(/^[0-9a-f]{32}$/);
    expect(fake.pollAttempts[0]).toMatchObject({ group: "client", pid: r.pid });
    expect(r.unicast).toBe(`poll://uni@client/${r.pid}`);
    expect(r.anycast).toBe(`poll://any@client/${r.pid}`);
  });

  it("beginRpc creates the root promise as the official SDK 0.11.5 does", async () => {
    const clock = new ManualClock(1_767_225_600_000);
    const r = resonate({ group: "client", clock });
    const handle = await r.beginRpc("job-1", "computeSomething", 42, r.options({ target: "workers", tags: { team: "a", "resonate:scope": "local" } }));
    expect(handle.id).toBe("job-1");
    expect(fake.requests[0]).toMatchObject({
      kind: "promise.create",
      data: {
        id: "job-1",
        timeoutAt: 1_767_225_600_000 + 86_400_000,
        param: { headers: {}, data: "eyJmdW5jIjoiY29tcHV0ZVNvbWV0aGluZyIsImFyZ3MiOls0Ml0sInZlcnNpb24iOjF9" },
        tags: {
          team: "a",
          "resonate:origin": "job-1",
          "resonate:branch": "job-1",
          "resonate:parent": "job-1",
          "resonate:scope": "global",
          "resonate:target": "poll://any@workers",
        },
      },
    });
  });

  it("beginRpc sends the requested version, and a function registered here decides it", async () => {
    const r = resonate();
    r.register("local", () => 1, { version: 3 });
    await r.beginRpc("a", "remote", r.options({ version: 2, timeout: 1000 }));
    await r.beginRpc("b", "local");
    const params = fake.requests.filter((q) => q.kind === "promise.create").map((q) => decode((q.data as { param: { data: string } }).param));
    expect(params).toEqual([
      { func: "remote", args: [], version: 2 },
      { func: "local", args: [], version: 3 },
    ]);
  });

  it("result() waits through a listener on the unicast address and resolves on the unblock", async () => {
    const r = resonate({ group: "client" });
    await r.connected();
    const handle = await r.beginRpc("job-2", "f", r.options({ target: "workers" }));
    const result = handle.result();
    await fake.waitFor(() => fake.requests.some((q) => q.kind === "promise.register_listener"));
    const listen = fake.requests.find((q) => q.kind === "promise.register_listener")!;
    expect(listen.data).toEqual({ awaited: "job-2", address: r.unicast });
    fake.push({ kind: "unblock", head: {}, data: { promise: promiseRecord("job-2", { state: "resolved", value: encode({ n: 84 }) }) } }, r.pid);
    await expect(result).resolves.toEqual({ n: 84 });
  });

  it("an existing settled promise is reconnected: result() answers at once", async () => {
    fake.on("promise.create", () => ({ status: 200, data: { promise: promiseRecord("job-3", { state: "rejected", value: encode(new Error("earlier failure")) }) } }));
    const r = resonate();
    await expect(r.rpc("job-3", "f")).rejects.toThrow("earlier failure");
    expect(fake.requests.filter((q) => q.kind === "promise.register_listener")).toHaveLength(0);
  });

  it("get() on an unknown id is a PromiseNotFoundError", async () => {
    fake.on("promise.get", () => ({ status: 404, data: "Promise not found" }));
    const r = resonate();
    const err = await r.get("nope").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PromiseNotFoundError);
    expect((err as Error).message).toContain('"nope"');
  });

  it("get() on a known id gives a handle to it", async () => {
    fake.on("promise.get", () => ({ status: 200, data: { promise: promiseRecord("p", { state: "resolved", value: encode("done") }) } }));
    const h = await resonate().get("p");
    await expect(h.done()).resolves.toBe(true);
    await expect(h.result()).resolves.toBe("done");
  });

  it("an unreachable server is reported with its url", async () => {
    await fake.close();
    const r = resonate({ reconnect: { initial: 10_000, max: 10_000 } });
    const err = await r.beginRpc("x", "f").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ResonateUnreachableError);
    expect((err as Error).message).toContain(fake.url);
    fake = await startFakeServer(); // for afterEach
  });

  it("stop() closes the stream and rejects pending waits; it is idempotent", async () => {
    const r = resonate();
    await r.connected();
    const handle = await r.beginRpc("job-4", "f");
    const result = handle.result();
    await fake.waitFor(() => fake.requests.some((q) => q.kind === "promise.register_listener"));
    await Promise.all([r.stop(), r.stop()]);
    await expect(result).rejects.toBeInstanceOf(ResonateStoppedError);
    await fake.waitFor(() => fake.streams.length === 0);
  });
});

import { describe, expect, it } from "vitest";
import { base64Json, cli, cliJson, decodeData, post, useServer } from "./helpers";

const env = useServer();
const S = () => ["-S", env.url];

describe("resonate promises", () => {
  it("creates a promise with a JSON param and tags, shown decoded", async () => {
    const before = Date.now();
    const result = await cli(["promises", "create", "p-create", "--timeout", "1h", "--param", '{"a":[1,2]}', "--tags", '{"team":"blue"}', ...S()]);
    expect(result.code).toBe(0);
    expect(result.stderr).toBe("");
    expect(result.stdout).toMatch(/id:\s+p-create/);
    expect(result.stdout).toMatch(/state:\s+pending/);
    expect(result.stdout).toMatch(/param:\s+\{"a":\[1,2\]\}/);
    expect(result.stdout).toMatch(/tags:\s+team=blue/);

    const { promise } = await cliJson(["promise", "get", "p-create", ...S()]);
    expect(promise).toMatchObject({ id: "p-create", state: "pending", tags: { team: "blue" }, value: {} });
    expect(promise.param).toEqual({ headers: {}, data: base64Json({ a: [1, 2] }) });
    expect(promise.timeoutAt).toBeGreaterThanOrEqual(before + 3_600_000);
    expect(promise.timeoutAt).toBeLessThan(Date.now() + 3_600_000);
  });

  it("takes the reference CLI's {data, headers} form: data base64-encoded as given", async () => {
    const { promise } = await cliJson(["promises", "create", "p-ref", "--timeout", "1m", "--param", '{"data":"hello","headers":{"h":"1"}}', ...S()]);
    expect(promise.param).toEqual({ headers: { h: "1" }, data: Buffer.from("hello").toString("base64") });
    const shown = await cli(["promises", "get", "p-ref", ...S()]);
    expect(shown.stdout).toMatch(/param:\s+hello \(plain text\) \(headers: h=1\)/);
  });

  it("resolves, rejects and cancels, with JSON values", async () => {
    for (const id of ["p-res", "p-rej", "p-can"]) await post(env.url, "promise.create", { id, timeoutAt: Date.now() + 3_600_000 });

    const resolved = await cli(["promises", "resolve", "p-res", "--value", '{"total":42}', ...S()]);
    expect(resolved.code).toBe(0);
    expect(resolved.stdout).toMatch(/state:\s+resolved/);
    expect(resolved.stdout).toMatch(/value:\s+\{"total":42\}/);
    expect(resolved.stdout).toMatch(/settled:\s+\d{4}-\d\d-\d\d/);

    const rejected = await cliJson(["promises", "reject", "p-rej", "--value", '"no"', ...S()]);
    expect(rejected.promise.state).toBe("rejected");
    expect(decodeData(rejected.promise.value.data)).toBe("no");

    const canceled = await cliJson(["promises", "cancel", "p-can", ...S()]);
    expect(canceled.promise).toMatchObject({ state: "rejected_canceled", value: {} });

    // Settling again answers the settled promise unchanged (spec §6.1.3).
    const again = await cliJson(["promises", "resolve", "p-rej", ...S()]);
    expect(again.promise.state).toBe("rejected");
  });

  it("creates with --delay: resonate:delay set, the delay added to the timeout", async () => {
    const before = Date.now();
    const { promise } = await cliJson([
      "promises", "create", "p-delay", "--timeout", "1m", "--delay", "30s", "--tags", '{"resonate:target":"poll://any@nobody"}', ...S(),
    ]);
    const delay = Number(promise.tags["resonate:delay"]);
    expect(delay).toBeGreaterThanOrEqual(before + 30_000);
    expect(promise.timeoutAt).toBe(delay + 60_000);
  });

  it("searches by state and tags, one page at a time", async () => {
    for (const id of ["s-1", "s-2", "s-3"]) {
      await post(env.url, "promise.create", { id, timeoutAt: Date.now() + 3_600_000, tags: { batch: "search" } });
    }
    await post(env.url, "promise.settle", { id: "s-2", state: "resolved" });

    const table = await cli(["promises", "search", "--tags", '{"batch":"search"}', ...S()]);
    expect(table.code).toBe(0);
    const lines = table.stdout.trim().split("\n");
    expect(lines[0]).toMatch(/^ID\s+STATE\s+CREATED\s+TIMEOUT\s+TARGET\s+VALUE$/);
    expect(lines.slice(1).map((l) => l.split(/\s+/).slice(0, 2))).toEqual([["s-1", "pending"], ["s-2", "resolved"], ["s-3", "pending"]]);

    const pending = await cliJson(["promises", "search", "--tags", '{"batch":"search"}', "--state", "pending", ...S()]);
    expect(pending.promises.map((p: { id: string }) => p.id)).toEqual(["s-1", "s-3"]);
    expect(pending.cursor).toBeUndefined();

    const first = await cli(["promises", "search", "--tags", '{"batch":"search"}', "--limit", "2", ...S()]);
    expect(first.stdout).toContain("more: --cursor s-2");
    const next = await cliJson(["promises", "search", "--tags", '{"batch":"search"}', "--limit", "2", "--cursor", "s-2", ...S()]);
    expect(next.promises.map((p: { id: string }) => p.id)).toEqual(["s-3"]);

    const none = await cli(["promises", "search", "--tags", '{"batch":"nothing"}', ...S()]);
    expect(none.stdout.trim()).toBe("no promises");
  });

  it("registers callbacks and listeners", async () => {
    await post(env.url, "promise.create", { id: "cb-awaited", timeoutAt: Date.now() + 3_600_000 });
    await post(env.url, "promise.create", { id: "cb-awaiter", timeoutAt: Date.now() + 3_600_000, tags: { "resonate:target": "poll://any@nobody" } });
    const callback = await cli(["promises", "register-callback", "cb-awaited", "cb-awaiter", ...S()]);
    expect(callback.code).toBe(0);
    expect(callback.stdout).toMatch(/id:\s+cb-awaited/);

    const listener = await cliJson(["promises", "register-listener", "cb-awaited", "poll://uni@somebody/1", ...S()]);
    expect(listener.promise).toMatchObject({ id: "cb-awaited", state: "pending" });
  });

  it("reports a missing promise as the server's 404, on one line, exit 1", async () => {
    const result = await cli(["promises", "get", "nope", ...S()]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe("");
    expect(result.stderr).toBe("error: 404 Promise not found\n");
  });
});

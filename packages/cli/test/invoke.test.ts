import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { base64Json, cli, cliJson, decodeData, post, startCli, useServer, waitFor } from "./helpers";

const env = useServer();
const S = () => ["-S", env.url];

/** The worker of packages/examples: our SDK, group "workers", function computeSomething(id, cost). */
const EXAMPLES_DIR = fileURLToPath(new URL("../../examples", import.meta.url));

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

describe("resonate invoke", () => {
  it("creates the promise an SDK's beginRpc creates: param {func,args,version}, target and lineage tags", async () => {
    const before = Date.now();
    const { promise } = await cliJson(["invoke", "inv-1", "--func", "add", "--arg", "1", "--arg", "two", "--arg", '{"x":1}', "--target", "workers", ...S()]);
    expect(promise.param).toEqual({ headers: {}, data: base64Json({ func: "add", args: [1, "two", { x: 1 }], version: 1 }) });
    expect(promise.tags).toEqual({
      "resonate:target": "poll://any@workers",
      "resonate:origin": "inv-1",
      "resonate:branch": "inv-1",
      "resonate:parent": "inv-1",
      "resonate:scope": "global",
    });
    expect(promise.timeoutAt).toBeGreaterThanOrEqual(before + 3_600_000);

    const human = await cli(["invoke", "inv-2", "--func", "add", "--json-args", "[1,2]", "--version", "2", "--timeout", "10m", "--delay", "1m", ...S()]);
    expect(human.code).toBe(0);
    expect(human.stdout).toContain("invoked add(1, 2) on poll://any@default");
    expect(human.stdout).toMatch(/param:\s+\{"func":"add","args":\[1,2\],"version":2\}/);
    const stored = (await post(env.url, "promise.get", { id: "inv-2" })).data.promise;
    const delay = Number(stored.tags["resonate:delay"]);
    expect(delay).toBeGreaterThanOrEqual(before + 60_000);
    expect(stored.timeoutAt).toBe(delay + 600_000);
  });

  it("--wait shows that it waits, then prints the decoded result", async () => {
    await post(env.url, "promise.create", { id: "inv-wait", timeoutAt: Date.now() + 60_000 });
    const waiting = startCli(["invoke", "inv-wait", "--func", "f", "--wait", ...S()]);
    cleanups.push(() => waiting.kill());
    await waitFor(() => waiting.output.stderr, "waiting for inv-wait");
    // A long wait says so every few seconds, with the time it has waited.
    await waitFor(() => waiting.output.stderr, /still waiting for inv-wait \(\d+s\)/, 20_000);
    await post(env.url, "promise.settle", { id: "inv-wait", state: "resolved", value: { headers: {}, data: base64Json({ ok: true }) } });
    const result = await waiting.done;
    expect(result.code).toBe(0);
    expect(result.stdout.trim().split("\n").at(-1)).toBe('resolved: {"ok":true}');
  });

  it("--wait exits 4 with the error when the function failed", async () => {
    const waiting = startCli(["invoke", "inv-fail", "--func", "f", "--wait", ...S()]);
    cleanups.push(() => waiting.kill());
    await waitFor(() => waiting.output.stderr, "waiting for inv-fail");
    const error = { __type: "error", name: "TypeError", message: "boom", stack: "TypeError: boom\n    at f" };
    await post(env.url, "promise.settle", { id: "inv-fail", state: "rejected", value: { headers: {}, data: base64Json(error) } });
    const result = await waiting.done;
    expect(result.code).toBe(4);
    expect(result.stdout).toContain("rejected: TypeError: boom");
  });

  it("--wait on a settled promise answers at once", async () => {
    await post(env.url, "promise.create", { id: "inv-done", timeoutAt: Date.now() + 60_000 });
    await post(env.url, "promise.settle", { id: "inv-done", state: "resolved", value: { headers: {}, data: base64Json(7) } });
    const result = await cli(["invoke", "inv-done", "--func", "f", "--wait", ...S()]);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain("already exists with another param");
    expect(result.stderr).not.toContain("waiting");
    expect(result.stdout).toContain("resolved: 7");
  });

  it("--wait stops on Ctrl-C with exit 130; the invocation stays", async () => {
    const waiting = startCli(["invoke", "inv-int", "--func", "f", "--wait", ...S()]);
    cleanups.push(() => waiting.kill());
    await waitFor(() => waiting.output.stderr, "waiting for inv-int");
    waiting.kill("SIGINT");
    const result = await waiting.done;
    expect(result.code).toBe(130);
    expect(result.stderr).toContain("stopped waiting for inv-int");
    expect((await post(env.url, "promise.get", { id: "inv-int" })).data.promise.state).toBe("pending");
  });

  it("--wait gets the result of a real worker (our SDK)", async () => {
    const worker = spawn(process.execPath, ["--import", "tsx", "src/worker.ts", "--json"], {
      cwd: EXAMPLES_DIR,
      env: { ...process.env, RESONATE_URL: env.url },
    });
    let workerOut = "";
    worker.stdout.setEncoding("utf8").on("data", (chunk: string) => (workerOut += chunk));
    worker.stderr.setEncoding("utf8").on("data", (chunk: string) => (workerOut += chunk));
    cleanups.push(() => worker.kill("SIGKILL"));
    await waitFor(() => workerOut, '"event":"ready"', 30_000);
    const workerPid = JSON.parse(workerOut.split("\n").find((l) => l.includes('"ready"'))!).pid as string;

    const result = await cli(["invoke", "inv-real", "--func", "computeSomething", "--arg", "inv-real", "--arg", "20", "--target", "workers", "--wait", "--json", ...S()]);
    expect(result.code).toBe(0);
    const { promise } = JSON.parse(result.stdout);
    expect(promise.state).toBe("resolved");
    expect(decodeData(promise.value.data)).toEqual({ id: "inv-real", cost: 20, worker: workerPid });
    expect(workerOut).toContain('"event":"finished"');
  });
});

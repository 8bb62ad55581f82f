import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { startServer } from "@resonate-compat/server";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

// The examples run as real processes against a real server, so they cannot rot.

const packageDir = fileURLToPath(new URL("..", import.meta.url));

interface Proc {
  child: ChildProcess;
  lines: Record<string, unknown>[];
  output: () => string;
  exited: Promise<number | null>;
}

/** Spawns an example with node itself (no npx/pnpm wrapper that could swallow a kill). */
function run(script: "worker" | "client", args: string[], url: string): Proc {
  const child = spawn(process.execPath, ["--import", "tsx", `src/${script}.ts`, "--json", ...args], {
    cwd: packageDir,
    env: { ...process.env, RESONATE_URL: url },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  const lines: Record<string, unknown>[] = [];
  child.stdout!.on("data", (chunk: Buffer) => {
    stdout += chunk.toString();
    const complete = stdout.split("\n");
    stdout = complete.pop()!;
    for (const line of complete) if (line.trim() !== "") lines.push(JSON.parse(line) as Record<string, unknown>);
  });
  child.stderr!.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return { child, lines, output: () => `stdout: ${JSON.stringify(lines)}\nstderr: ${stderr}`, exited };
}

async function waitForLine(proc: Proc, match: Record<string, unknown>, timeoutMs = 15_000): Promise<Record<string, unknown>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const line = proc.lines.find((l) => Object.entries(match).every(([k, v]) => l[k] === v));
    if (line) return line;
    if (Date.now() > deadline) throw new Error(`no line like ${JSON.stringify(match)} within ${timeoutMs} ms\n${proc.output()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe("examples", () => {
  let server: Awaited<ReturnType<typeof startServer>>;
  const procs: Proc[] = [];

  beforeEach(async () => {
    server = await startServer({ host: "127.0.0.1", port: 0, db: ":memory:", logLevel: "silent" });
  });
  afterEach(async () => {
    for (const p of procs.splice(0)) if (p.child.exitCode === null) p.child.kill("SIGKILL");
    await server.close();
  });

  it("a client's invocation runs on the worker; the client exits at once, or waits with --wait", async () => {
    const worker = run("worker", [], server.url);
    procs.push(worker);
    await waitForLine(worker, { event: "ready" });

    const fire = run("client", ["--id", "job-fire", "--cost", "300"], server.url);
    procs.push(fire);
    expect(await fire.exited).toBe(0);
    expect(fire.lines).toHaveLength(1);
    expect(fire.lines[0]).toMatchObject({ event: "invoked", role: "client", id: "job-fire", cost: 300 });
    expect(fire.lines[0]!.pid).toMatch(/^[0-9a-f]{32}$/);
    await waitForLine(worker, { event: "finished", id: "job-fire" });

    const wait = run("client", ["--wait", "--cost", "100"], server.url);
    procs.push(wait);
    expect(await wait.exited).toBe(0);
    const invoked = await waitForLine(wait, { event: "invoked" });
    expect(invoked.id).toMatch(/^job-[0-9a-f]{8}$/);
    const result = await waitForLine(wait, { event: "result" });
    expect(result.result).toMatchObject({ id: invoked.id, cost: 100 });
    await waitForLine(worker, { event: "started", id: invoked.id });

    worker.child.kill("SIGTERM");
    expect(await worker.exited).toBe(0);
    await waitForLine(worker, { event: "stopping" });
  }, 60_000);

  it("the client reports an unreachable server and exits non-zero", async () => {
    const client = run("client", ["--cost", "1"], "http://127.0.0.1:1");
    procs.push(client);
    expect(await client.exited).toBe(1);
    const failed = await waitForLine(client, { event: "failed" });
    expect(failed.error).toContain("http://127.0.0.1:1");
  }, 60_000);
});

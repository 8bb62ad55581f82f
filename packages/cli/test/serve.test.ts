import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { cli, cliJson, expectOneLineError, startCli, useServer, waitFor } from "./helpers";

// serve and dev run our server inside the CLI process: started here as real processes, on free
// loopback ports, stopped by signal.

const dir = mkdtempSync(join(tmpdir(), "resonate-cli-serve-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Starts `resonate <args>` and resolves with the process and its URL once it listens. */
async function startServing(args: string[]) {
  const child = startCli([...args, "--server-port", "0", "--level", "info"]);
  // The server logs JSON lines when stdout is not a terminal: {"url":"http://127.0.0.1:…","msg":"server listening"}.
  await waitFor(() => child.output.stdout + child.output.stderr, /"url":"http:\/\/[^"]+".*"msg":"server listening"/, 30_000);
  const url = /"url":"(http:\/\/[^"]+)"/.exec(child.output.stdout)![1]!;
  return { child, url };
}

describe("resonate dev", () => {
  it("serves on an in-memory database and stops cleanly on SIGTERM", async () => {
    const { child, url } = await startServing(["dev"]);
    try {
      expect(child.output.stdout).toContain('"storage":"sqlite::memory:"');
      expect((await fetch(`${url}/health`)).status).toBe(200);
      expect((await cliJson(["promises", "create", "d-1", "--timeout", "1m", "-S", url])).promise.state).toBe("pending");
      child.kill("SIGTERM");
      const result = await child.done;
      expect(result.code).toBe(0);
      expect(result.stdout).toContain("server stopped");
    } finally {
      child.kill("SIGKILL");
    }
  });
});

describe("resonate dev: operators' settings", () => {
  it("--history off and --observability-metrics-port reach the server", async () => {
    const port = await new Promise<number>((resolve, reject) => {
      const probe = createServer();
      probe.once("error", reject);
      probe.listen(0, "127.0.0.1", () => {
        const { port: free } = probe.address() as AddressInfo;
        probe.close(() => resolve(free));
      });
    });
    const { child, url } = await startServing(["dev", "--history", "off", "--observability-metrics-port", String(port)]);
    try {
      await cliJson(["promises", "create", "m-1", "--timeout", "1m", "--tags", '{"resonate:target":"poll://any@nobody"}', "-S", url]);
      const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      expect(metrics).toContain('resonate_request_total{kind="promise.create",status="200"} 1');
      const history = await fetch(`${url}/admin/tasks/m-1/history`);
      expect(((await history.json()) as { events: unknown[] }).events).toEqual([]); // the task exists, its history was not recorded
    } finally {
      child.kill("SIGKILL");
      await child.done;
    }
  });
});

describe("resonate serve", () => {
  it("keeps its data in --storage-sqlite-path across a restart (SIGINT)", async () => {
    const db = join(dir, "data", "resonate.db");
    const first = await startServing(["serve", "--storage-sqlite-path", db, "--tasks-retry-timeout", "5s", "--timeouts-poll-interval", "500"]);
    try {
      await cliJson(["promises", "create", "kept", "--timeout", "1h", "-S", first.url]);
      first.child.kill("SIGINT");
      expect((await first.child.done).code).toBe(0);
    } finally {
      first.child.kill("SIGKILL");
    }
    const second = await startServing(["serve", "--storage-sqlite-path", db]);
    try {
      expect((await cliJson(["promises", "get", "kept", "-S", second.url])).promise.id).toBe("kept");
      second.child.kill("SIGTERM");
      expect((await second.child.done).code).toBe(0);
    } finally {
      second.child.kill("SIGKILL");
    }
  });

  const taken = useServer();

  it("a port in use: one line, exit 1", async () => {
    const port = new URL(taken.url).port;
    const result = await cli(["dev", "--server-port", port, "--level", "silent"]);
    expect(result.code).toBe(1);
    expect(expectOneLineError(result.stderr)).toMatch(/^error: cannot start the server: listen EADDRINUSE/);
  });

  it("bad settings: the flag named, one line", async () => {
    const [port, url] = await Promise.all([
      cli(["serve", "--server-port", "eighty"]),
      cli(["dev", "--server-url", "not a url", "--server-port", "0", "--level", "silent"]),
    ]);
    expect(port.code).toBe(2);
    expect(expectOneLineError(port.stderr)).toMatch(/option '--server-port <port>' argument 'eighty' is invalid/);
    expect(url.code).toBe(1);
    expect(expectOneLineError(url.stderr)).toMatch(/^error: cannot start the server: --server-url: /);
  });

  it("--storage-type postgres is handed to the server, which fails in one line when it cannot use it", async () => {
    const child = startCli(["serve", "--storage-type", "postgres", "--storage-postgres-url", "postgres://127.0.0.1:1/none",
      "--storage-postgres-pool-size", "2", "--server-port", "0", "--level", "silent"]);
    const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
    const result = await child.done;
    clearTimeout(timer);
    expect(result.code).toBe(1);
    expect(expectOneLineError(result.stderr)).toMatch(/^error: cannot start the server: /);
  });
});

import { spawn } from "node:child_process";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import { CLI_DIR, cli, expectOneLineError, useServer } from "./helpers";

const env = useServer();
const S = () => ["-S", env.url];

/** A loopback port nothing listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe.concurrent("bad input: one line on stderr, exit 2, no stack", () => {
  it.each([
    ["an unknown command", ["frobnicate"], /^error: unknown command 'frobnicate'$/],
    ["an unknown subcommand, with a suggestion on the same line", ["promises", "serch"], /^error: unknown command 'serch' \(Did you mean search\?\)$/],
    ["an unknown option", ["promises", "get", "x", "--frob"], /^error: unknown option '--frob'$/],
    ["a missing argument", ["promises", "get"], /^error: missing required argument 'id'$/],
    ["a missing required option", ["promises", "create", "x"], /^error: required option '--timeout <duration>' not specified$/],
    ["bad JSON", ["promises", "create", "x", "--timeout", "1h", "--param", "{x"], /^error: option '--param <json>' argument '\{x' is invalid\. not valid JSON/],
    ["tags that are not strings", ["promises", "create", "x", "--timeout", "1h", "--tags", '{"n":1}'], /tag 'n' must be a string/],
    ["a bad duration", ["promises", "create", "x", "--timeout", "5x"], /^error: option '--timeout <duration>' argument '5x' is invalid\. invalid duration/],
    ["a duration without unit", ["invoke", "x", "--func", "f", "--timeout", "60"], /has no unit \(write e\.g\. 60s or 60ms\)/],
    ["a bad state", ["promises", "search", "--state", "done"], /argument 'done' is invalid\. Allowed choices are pending/],
    ["a bad --server", ["promises", "get", "x", "-S", "localhost:8001"], /^error: --server 'localhost:8001' must be an http:\/\/ or https:\/\/ URL$/],
    ["both --arg and --json-args", ["invoke", "x", "--func", "f", "--arg", "1", "--json-args", "[1]"], /^error: give --arg or --json-args, not both$/],
  ])("%s", async (_name, args, message) => {
    const result = await cli(args.includes("-S") ? args : [...args, ...S()]);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expect(expectOneLineError(result.stderr)).toMatch(message);
  });
});

describe("servers that cannot answer", () => {
  it("an unreachable server: exit 3", async () => {
    const port = await closedPort();
    const result = await cli(["promises", "get", "x", "-S", `http://127.0.0.1:${port}`]);
    expect(result.code).toBe(3);
    expect(expectOneLineError(result.stderr)).toBe(`error: cannot reach the server at http://127.0.0.1:${port}: connection refused (is the server running?)`);
  });

  it("something that is not a Resonate server: exit 3", async () => {
    const other = createServer((_req, res) => res.writeHead(404, { "content-type": "text/html" }).end("<h1>nope</h1>"));
    await new Promise<void>((resolve) => other.listen(0, "127.0.0.1", resolve));
    try {
      const url = `http://127.0.0.1:${(other.address() as AddressInfo).port}`;
      const result = await cli(["promises", "get", "x", "-S", url]);
      expect(result.code).toBe(3);
      expect(expectOneLineError(result.stderr)).toBe(`error: ${url}/ answered HTTP 404 without a protocol envelope; is it a Resonate server?`);
    } finally {
      other.close();
    }
  });

  it("a protocol error: the status and the server's message, exit 1", async () => {
    const result = await cli(["invoke", "x", "--func", "f", "--target", "poll://nobody", ...S()]);
    expect(result.code).toBe(1);
    expect(expectOneLineError(result.stderr)).toBe("error: 400 Invalid resonate:target address");
  });

  it("RESONATE_URL is the default server", async () => {
    const result = await cli(["promises", "get", "nope"], { RESONATE_URL: env.url });
    expect(result.stderr).toBe("error: 404 Promise not found\n");
  });
});

describe("help", () => {
  it("--help on commands, exit 0, and the bin runs the same program", async () => {
    const bin = new Promise<{ code: number | null; stdout: string }>((resolve) => {
      const child = spawn(process.execPath, ["bin/resonate.mjs", "tasks", "--help"], { cwd: CLI_DIR });
      let stdout = "";
      child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
      child.on("close", (code) => resolve({ code, stdout }));
    });
    const runs = await Promise.all([
      bin,
      cli(["--help"]),
      cli(["promises", "--help"]),
      cli(["tasks", "claim", "--help"]),
      cli(["invoke", "--help"]),
      cli(["help", "schedules"]),
    ]);
    for (const run of runs) {
      expect(run.code).toBe(0);
      expect(run.stdout).toMatch(/^Usage: resonate/);
    }
    expect(runs[0]!.stdout).toMatch(/claim\|acquire \[options\] <id>/);
    expect(runs[1]!.stdout).toContain("Exit codes:");
    expect(runs[3]!.stdout).toContain("--version <n>");
    expect(runs[3]!.stdout).toContain("Global Options:");
  });
});

import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll } from "vitest";
import { type RunningServer, type StartOptions, startServer } from "@resonate-compat/server";

// The CLI under test is a real process (node --import tsx src/main.ts …) talking to a real server
// started in the test process on a free loopback port with an in-memory database.

export const CLI_DIR = fileURLToPath(new URL("..", import.meta.url));
const MAIN = fileURLToPath(new URL("../src/main.ts", import.meta.url));

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The environment of a CLI run: ours, minus anything that would point it at another server. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const key of Object.keys(env)) if (key.startsWith("RESONATE_")) delete env[key];
  return { ...env, ...extra };
}

/** Starts the CLI; the caller reads its output and waits for it. */
export function startCli(args: string[], env: Record<string, string> = {}): ChildProcess & { output: CliResult; done: Promise<CliResult> } {
  const child = spawn(process.execPath, ["--import", "tsx", MAIN, ...args], { cwd: CLI_DIR, env: cleanEnv(env) });
  const output: CliResult = { code: null, stdout: "", stderr: "" };
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => (output.stdout += chunk));
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (output.stderr += chunk));
  const done = new Promise<CliResult>((resolve) => {
    child.on("close", (code) => {
      output.code = code;
      resolve(output);
    });
  });
  return Object.assign(child, { output, done });
}

/** Runs the CLI to the end. */
export function cli(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return startCli(args, env).done;
}

/** Runs the CLI with --json and parses stdout; fails loudly when the run failed. */
export async function cliJson<T = any>(args: string[], env: Record<string, string> = {}): Promise<T> {
  const result = await cli([...args, "--json"], env);
  if (result.code !== 0) throw new Error(`resonate ${args.join(" ")} exited ${result.code}: ${result.stderr}`);
  return JSON.parse(result.stdout) as T;
}

/** Resolves when `text` appears in what `read` returns, or rejects after `ms`. */
export async function waitFor(read: () => string, text: string | RegExp, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(typeof text === "string" ? read().includes(text) : text.test(read()))) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${String(text)}; got:\n${read()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A server for the tests of one file: started before them, closed after. */
export function useServer(options: StartOptions = {}): { readonly url: string; readonly server: RunningServer } {
  let server: RunningServer | undefined;
  beforeAll(async () => {
    server = await startServer({ port: 0, db: ":memory:", logLevel: "silent", ...options });
  });
  afterAll(async () => {
    await server?.close();
  });
  return {
    get url() {
      return server!.url;
    },
    get server() {
      return server!;
    },
  };
}

/** An unsigned JWT (the server with authPublicKey "none" does not check signatures). */
export function unsignedToken(claims: Record<string, unknown>): string {
  const part = (v: object) => Buffer.from(JSON.stringify(v)).toString("base64url");
  return `${part({ alg: "HS256", typ: "JWT" })}.${part({ exp: Math.floor(Date.now() / 1000) + 3600, ...claims })}.c2lnbmF0dXJl`;
}

/** One line, no stack trace: what every failure must print on stderr. */
export function expectOneLineError(stderr: string): string {
  const lines = stderr.trim().split("\n");
  if (lines.length !== 1) throw new Error(`expected one line on stderr, got ${lines.length}:\n${stderr}`);
  if (/\n\s+at |at .*\.ts:\d+/.test(stderr)) throw new Error(`stack trace on stderr:\n${stderr}`);
  return lines[0]!;
}

export function base64Json(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString("base64");
}

export function decodeData(data: string | undefined): unknown {
  return data ? JSON.parse(Buffer.from(data, "base64").toString("utf8")) : undefined;
}

/** One protocol request straight to the server, for setting up what a CLI test then looks at. */
export async function post(url: string, kind: string, data: object, token?: string): Promise<{ status: number; data: any }> {
  const response = await fetch(`${url}/`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ kind, head: { corrId: `test-${Math.random()}`, version: "2026-04-01", ...(token && { auth: token }) }, data }),
  });
  const body = (await response.json()) as { head: { status: number }; data: any };
  return { status: body.head.status, data: body.data };
}

// Our server as a child process (Node 20, TypeScript through tsx's loader), in debug mode with an
// in-memory database, and a small client for POST /.

import { spawn, execFileSync } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const REPO_ROOT = fileURLToPath(new URL("../../../", import.meta.url));
export const SERVER_MAIN = path.join(REPO_ROOT, "packages", "server", "src", "main.ts");
export const TSX_LOADER = path.join(REPO_ROOT, "node_modules", "tsx", "dist", "loader.mjs");
export const PROTOCOL_VERSION = "2026-04-01";

/** The Node 20 binary for the server: $NODE20, else the first `node` on PATH that is v20. */
export function findNode20() {
  if (process.env.NODE20) return process.env.NODE20;
  const candidates = [];
  try {
    candidates.push(...execFileSync("which", ["-a", "node"], { encoding: "utf8" }).split("\n").filter(Boolean));
  } catch {}
  candidates.push("/usr/bin/node", "/usr/local/bin/node");
  for (const c of candidates) {
    try {
      const v = execFileSync(c, ["--version"], { encoding: "utf8" }).trim();
      if (v.startsWith("v20.")) return c;
    } catch {}
  }
  throw new Error("no Node 20 binary found: set NODE20=/path/to/node");
}

async function freePort() {
  return await new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Starts the server and waits for GET /ready = 200. The returned `stop()` kills it (SIGTERM, then
 * SIGKILL); it is also registered on process exit so that the child never outlives the runner.
 */
export async function startServer({ node = findNode20(), logDir } = {}) {
  const port = await freePort();
  // DIFF_SERVER_ARGS: extra server flags (split on spaces), e.g. the PostgreSQL store's.
  const extra = (process.env.DIFF_SERVER_ARGS ?? "").split(" ").filter(Boolean);
  const args = ["--import", TSX_LOADER, SERVER_MAIN, "--host", "127.0.0.1", "--port", String(port), "--db", ":memory:", "--debug", "--log-level", "warn", ...extra];
  const child = spawn(node, args, { cwd: REPO_ROOT, env: { ...process.env, TZ: "UTC" }, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout.setEncoding("utf8");
  child.stderr.setEncoding("utf8");
  child.stdout.on("data", (c) => (output += c));
  child.stderr.on("data", (c) => (output += c));
  let exited = false;
  child.on("exit", () => (exited = true));
  const killNow = () => {
    if (!exited) {
      try {
        child.kill("SIGKILL");
      } catch {}
    }
  };
  process.on("exit", killNow);

  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (exited) throw new Error(`server exited during start-up:\n${output}`);
    try {
      const res = await fetch(`${url}/ready`);
      if (res.status === 200) break;
    } catch {}
    if (Date.now() > deadline) {
      killNow();
      throw new Error(`server not ready after 30 s:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }

  const stop = async () => {
    process.off("exit", killNow);
    if (exited) return;
    const gone = new Promise((r) => child.once("exit", r));
    child.kill("SIGTERM");
    const timer = setTimeout(killNow, 3000);
    await gone;
    clearTimeout(timer);
    if (logDir) fs.writeFileSync(path.join(logDir, "server.log"), output);
  };
  return { url, pid: child.pid, stop, output: () => output };
}

/** POSTs one envelope; returns the HTTP status and the parsed body (or the raw text). */
export async function post(url, envelope) {
  const res = await fetch(`${url}/`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(envelope),
  });
  const text = await res.text();
  let body;
  try {
    body = JSON.parse(text);
  } catch {
    body = text;
  }
  return { httpStatus: res.status, contentType: res.headers.get("content-type") ?? "", env: body };
}

import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort } from "../../src/index";

const REPO_ROOT = fileURLToPath(new URL("../../../..", import.meta.url));
const MAIN = join(REPO_ROOT, "packages/server/src/main.ts");

export interface RealServer {
  url: string;
  pid: number;
  kill(signal: NodeJS.Signals): Promise<void>;
}

/**
 * packages/server/src/main.ts (what `pnpm server` runs) on a free port with its own SQLite file,
 * as one process (node --import tsx, no launcher in between, so pid is the server's). Returns
 * once GET /ready answers 200.
 */
export async function startRealServer(externalUrl?: string): Promise<RealServer> {
  const folder = await mkdtemp(join(tmpdir(), "resonate-server-"));
  const port = await freePort();
  const args = ["--import", "tsx", MAIN, "--host", "127.0.0.1", "--port", String(port), "--db", join(folder, "resonate.db"), "--log-level", "warn"];
  if (externalUrl) args.push("--url", externalUrl);
  const child: ChildProcess = spawn(process.execPath, args, { cwd: REPO_ROOT, stdio: ["ignore", "ignore", "inherit"] });
  const exited = once(child, "exit").then(() => rm(folder, { recursive: true, force: true }));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the server exited with ${child.exitCode} before it was ready`);
    const ready = await fetch(`${url}/ready`).then((response) => response.status === 200, () => false);
    if (ready) break;
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error("the server was not ready after 30 s");
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    url,
    pid: child.pid!,
    async kill(signal) {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}

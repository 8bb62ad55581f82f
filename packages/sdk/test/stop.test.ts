import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterEach, describe, expect, it } from "vitest";
import { type FakeServer, promiseRecord, startFakeServer } from "./support/fake-server";

// stop() must leave nothing behind that keeps the process alive (timers, sockets, retries).
function exitDelayAfterStop(url: string): Promise<number> {
  const script = fileURLToPath(new URL("./support/stop-and-exit.ts", import.meta.url));
  const cwd = fileURLToPath(new URL("..", import.meta.url)); // where tsx resolves from
  const child = spawn(process.execPath, ["--import", "tsx", script, url], { cwd, stdio: ["ignore", "pipe", "pipe"] });
  let stoppedAt = 0;
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => {
    output += chunk.toString();
    if (output.includes("stopped") && stoppedAt === 0) stoppedAt = Date.now();
  });
  child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
  return new Promise((resolve, reject) => {
    const kill = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`child did not exit after stop()\n${output}`));
    }, 15_000);
    child.on("exit", () => {
      clearTimeout(kill);
      if (stoppedAt === 0) reject(new Error(`child exited without stopping\n${output}`));
      else resolve(Date.now() - stoppedAt);
    });
  });
}

describe("stop()", () => {
  let fake: FakeServer | undefined;
  afterEach(async () => {
    await fake?.close();
    fake = undefined;
  });

  it("lets the process exit while connected and waiting for a result", async () => {
    fake = await startFakeServer();
    fake.on("promise.create", () => ({ status: 200, data: { promise: promiseRecord("job") } }));
    fake.on("promise.register_listener", () => ({ status: 200, data: { promise: promiseRecord("job") } }));
    expect(await exitDelayAfterStop(fake.url)).toBeLessThan(1_000);
  });

  it("lets the process exit when the server cannot be reached (no reconnect or retry timer left)", async () => {
    expect(await exitDelayAfterStop("http://127.0.0.1:9")).toBeLessThan(1_000);
  });
});

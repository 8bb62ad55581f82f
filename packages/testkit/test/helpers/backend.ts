import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";

const FIXTURE = fileURLToPath(new URL("../fixtures/sse-backend.mjs", import.meta.url));

export interface Backend {
  name: string;
  url: string;
  pid: number;
  /** Writes an event with this data to every stream open on this backend; returns how many. */
  emit(data: string): Promise<number>;
  /** Makes its /ready answer 503. */
  unready(): Promise<void>;
  kill(signal: NodeJS.Signals): Promise<void>;
  stop(): Promise<void>;
}

/** Starts fixtures/sse-backend.mjs, a replica stand-in in a process of its own. */
export async function startBackend(name: string): Promise<Backend> {
  const child: ChildProcess = spawn(process.execPath, [FIXTURE, name], { stdio: ["pipe", "pipe", "inherit"] });
  const [line] = (await once(child.stdout!, "data")) as [Buffer];
  const { port } = JSON.parse(line.toString("utf8")) as { port: number };
  const url = `http://127.0.0.1:${port}`;
  const exited = once(child, "exit");
  const kill = async (signal: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill(signal);
      await exited;
    }
  };
  return {
    name,
    url,
    pid: child.pid!,
    async emit(data) {
      const response = await fetch(`${url}/control/emit`, { method: "POST", body: data });
      return ((await response.json()) as { streams: number }).streams;
    },
    async unready() {
      await fetch(`${url}/control/unready`, { method: "POST" });
    },
    kill,
    stop: () => kill("SIGTERM"),
  };
}

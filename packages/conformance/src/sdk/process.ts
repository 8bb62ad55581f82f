// One official-SDK program (fixtures/*.mjs) as a real Node 22 child process: its stdout markers are
// collected for the checks, and it is killed by pid (never by name) when the suite ends.
import { type ChildProcess, spawn } from "node:child_process";
import path from "node:path";
import { fail } from "../expect.js";
import { FIXTURES, NODE22 } from "../paths.js";

/** Every program still running: killed when the kit exits, however it exits. */
const live = new Set<ChildProcess>();
process.on("exit", () => {
  for (const c of live) c.kill("SIGKILL");
});

export interface Marker {
  event: string;
  [key: string]: any;
}

export class SdkProcess {
  readonly markers: Marker[] = [];
  private readonly child: ChildProcess;
  private stderr = "";
  private partial = "";
  private exited = false;
  private waiters = new Set<() => void>();

  constructor(
    readonly label: string,
    file: string,
    env: Record<string, string>,
  ) {
    // A clean environment: no RESONATE_* of ours may steer the SDK.
    const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("RESONATE_") && k !== "NODE_OPTIONS"));
    this.child = spawn(NODE22, [path.join(FIXTURES, file)], { env: { ...base, ...env }, stdio: ["pipe", "pipe", "pipe"] });
    this.child.stdout!.setEncoding("utf8").on("data", (c: string) => this.onStdout(c));
    this.child.stderr!.setEncoding("utf8").on("data", (c: string) => {
      // keep the tail only: enough to explain a failure
      this.stderr = (this.stderr + c).slice(-4000);
    });
    live.add(this.child);
    this.child.on("exit", () => {
      live.delete(this.child);
      this.exited = true;
      this.notify();
    });
  }

  get alive(): boolean {
    return !this.exited;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** The SDK pid the program reported in its "ready" marker. */
  get sdkPid(): string | undefined {
    return this.markers.find((m) => m.event === "ready")?.pid;
  }

  send(command: Record<string, unknown>): void {
    this.child.stdin!.write(`${JSON.stringify(command)}\n`);
  }

  events(event: string, pred: (m: Marker) => boolean = () => true): Marker[] {
    return this.markers.filter((m) => m.event === event && pred(m));
  }

  /** Waits for a marker; fails with the program's stderr tail on deadline or early exit. */
  waitFor(event: string | string[], pred: (m: Marker) => boolean, timeoutMs: number, what: string): Promise<Marker> {
    const events = Array.isArray(event) ? event : [event];
    return new Promise((resolve, reject) => {
      const probe = () => {
        const m = this.markers.find((x) => events.includes(x.event) && pred(x));
        if (m) {
          done();
          resolve(m);
        } else if (this.exited) {
          done();
          reject(this.failure(`${this.label} exited before ${what}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(this.failure(`no ${what} from ${this.label} within ${timeoutMs} ms`));
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(probe);
      };
      this.waiters.add(probe);
      probe();
    });
  }

  /** SIGKILL and wait until the process is gone. */
  async kill(): Promise<void> {
    if (this.exited) return;
    const gone = new Promise<void>((r) => this.child.once("exit", () => r()));
    this.child.kill("SIGKILL");
    await gone;
  }

  private failure(message: string): Error {
    const fatal = this.markers.find((m) => m.event === "fatal");
    const tail = this.stderr.trim().split("\n").slice(-5).join("\n");
    try {
      fail(`${message}${fatal ? `: ${JSON.stringify(fatal.error)}` : ""}${tail ? `\n${tail}` : ""}`);
    } catch (e) {
      return e as Error;
    }
  }

  private onStdout(chunk: string): void {
    this.partial += chunk;
    let nl = this.partial.indexOf("\n");
    while (nl >= 0) {
      const line = this.partial.slice(0, nl).trim();
      this.partial = this.partial.slice(nl + 1);
      if (line.startsWith("{")) {
        try {
          const m = JSON.parse(line);
          if (typeof m.event === "string") this.markers.push(m);
        } catch {
          // not a marker
        }
      }
      nl = this.partial.indexOf("\n");
    }
    this.notify();
  }

  private notify(): void {
    for (const w of [...this.waiters]) w();
  }
}

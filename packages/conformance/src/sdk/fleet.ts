// The SDK suite's processes, started on first use and shared by its checks: workers of the run's
// group, and a client that takes commands on stdin. Everything is killed when the suite ends.
import type { CheckContext } from "../check.js";
import { ok } from "../expect.js";
import { SdkProcess } from "./process.js";

const READY_MS = 20_000;
let refs = 0;

export class Fleet {
  private readonly procs: SdkProcess[] = [];

  constructor(private readonly ctx: CheckContext) {}

  /** Starts an SDK program and waits until its poll stream is open. */
  async start(label: string, file: "worker.mjs" | "client.mjs", env: Record<string, string>): Promise<SdkProcess> {
    const full: Record<string, string> = { CONF_URL: this.ctx.server.url, ...env };
    const token = this.ctx.api.authHeaders().authorization?.slice("Bearer ".length);
    if (token) full.CONF_TOKEN = token;
    const p = new SdkProcess(label, file, full);
    this.procs.push(p);
    await p.waitFor("ready", () => true, READY_MS, "the ready marker (poll stream open)");
    return p;
  }

  async startMany(n: number, label: string, env: Record<string, string>): Promise<SdkProcess[]> {
    return Promise.all(Array.from({ length: n }, (_, i) => this.start(`${label}-${i + 1}`, "worker.mjs", env)));
  }

  async dispose(): Promise<void> {
    await Promise.all(this.procs.map((p) => p.kill()));
  }

  /** The shared fleet of this suite run, created (and scheduled for disposal) on first use. */
  static of(ctx: CheckContext): Fleet {
    let fleet = ctx.shared.get("fleet") as Fleet | undefined;
    if (!fleet) {
      fleet = new Fleet(ctx);
      ctx.shared.set("fleet", fleet);
      const f = fleet;
      ctx.atSuiteEnd(() => f.dispose());
    }
    return fleet;
  }

  /**
   * Memoised start of a named group of processes. A failed start is not retried: every check that
   * needs the group fails at once with the same reason, instead of waiting out its own start-up.
   */
  async once<T>(key: string, start: () => Promise<T>): Promise<T> {
    const k = `fleet:${key}`;
    let p = this.ctx.shared.get(k) as Promise<T> | undefined;
    if (!p) {
      p = start();
      this.ctx.shared.set(k, p);
    }
    return p;
  }
}

/** Sends a command to a client program and waits for its answer (result/done/failed marker). */
export async function command(client: SdkProcess, cmd: Record<string, unknown>, timeoutMs: number): Promise<Record<string, any>> {
  const ref = ++refs;
  client.send({ ...cmd, ref });
  const answer = await client.waitFor(["result", "done", "failed"], (x) => x.ref === ref, timeoutMs, `an answer to ${cmd.op} ${String(cmd.id ?? cmd.name ?? "")}`);
  ok(answer.event !== "failed", `${cmd.op} ${String(cmd.id ?? cmd.name ?? "")} failed in the SDK: ${JSON.stringify(answer.error)}`);
  return answer;
}

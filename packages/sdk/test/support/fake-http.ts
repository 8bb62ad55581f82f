import type { Kind } from "@resonate-compat/protocol";
import type { Answer } from "../../src/http-client";

// The HttpClient seam for logic tests: records requests and answers from a per-kind script.
export type Script = (data: Record<string, unknown>, index: number) => { status: number; data: unknown } | Error | Promise<{ status: number; data: unknown } | Error>;

export class FakeHttp {
  readonly calls: { kind: string; data: Record<string, unknown> }[] = [];
  private readonly scripts = new Map<string, Script>();

  on(kind: string, script: Script): this {
    this.scripts.set(kind, script);
    return this;
  }

  callsOf(kind: string): Record<string, unknown>[] {
    return this.calls.filter((c) => c.kind === kind).map((c) => c.data);
  }

  send = async <K extends Kind>(kind: K, data: unknown): Promise<Answer<K>> => {
    const index = this.callsOf(kind).length;
    this.calls.push({ kind, data: data as Record<string, unknown> });
    const script = this.scripts.get(kind);
    const reply = script ? await script(data as Record<string, unknown>, index) : { status: 200, data: {} };
    if (reply instanceof Error) throw reply;
    return reply as Answer<K>;
  };

  ok = async <K extends Kind>(kind: K, data: unknown) => {
    const answer = await this.send(kind, data);
    if (answer.status !== 200) throw new Error(`status ${answer.status}`);
    return answer.data as never;
  };
}

/** Lets pending promise callbacks run (several rounds: async functions chain). */
export async function flush(): Promise<void> {
  for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
}

import { describe, expect, it } from "vitest";
import { base64Json, cli, cliJson, post, useServer } from "./helpers";

const env = useServer();
const S = () => ["-S", env.url];

async function create(id: string, tags: Record<string, string>, func?: string): Promise<void> {
  const param = func ? { headers: {}, data: base64Json({ func, args: [], version: 1 }) } : {};
  expect((await post(env.url, "promise.create", { id, timeoutAt: Date.now() + 3_600_000, param, tags })).status).toBe(200);
}

describe("resonate tree", () => {
  it("prints the call graph of a run, linked by resonate:parent, with states", async () => {
    const lineage = (parent: string, scope: string) => ({ "resonate:origin": "run", "resonate:parent": parent, "resonate:scope": scope });
    await create("run", { ...lineage("run", "global"), "resonate:target": "poll://any@nobody" }, "main");
    await create("run.0", lineage("run", "global"), "fetch");
    await create("run.0.0", lineage("run.0", "local"), "parse");
    await create("run.1", { ...lineage("run", "global"), "resonate:timer": "true" });
    await post(env.url, "promise.settle", { id: "run.0.0", state: "resolved" });
    await create("elsewhere", { "resonate:origin": "other" });

    const result = await cli(["tree", "run", ...S()]);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe([
      "run  pending  rpc main",
      "├── run.0  pending  rpc fetch",
      "│   └── run.0.0  resolved  run parse",
      "└── run.1  pending  sleep",
      "",
    ].join("\n"));

    const tree = await cliJson(["tree", "run", ...S()]);
    expect(tree.promise.id).toBe("run");
    expect(tree.children.map((c: { promise: { id: string } }) => c.promise.id)).toEqual(["run.0", "run.1"]);
    expect(tree.children[0].children[0].promise).toMatchObject({ id: "run.0.0", state: "resolved" });
  });

  it("shows a root without an origin tag (as the reference CLI's invoke creates it), and 404 for no run at all", async () => {
    await create("bare", {});
    expect((await cli(["tree", "bare", ...S()])).stdout).toBe("bare  pending\n");
    const missing = await cli(["tree", "no-such-run", ...S()]);
    expect(missing).toMatchObject({ code: 1, stderr: "error: 404 Promise not found\n" });
  });
});

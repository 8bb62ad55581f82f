import { describe, expect, it } from "vitest";
import { cli, cliJson, decodeData, post, useServer } from "./helpers";

const env = useServer();
const S = () => ["-S", env.url];
const TARGET = '{"resonate:target":"poll://any@nobody"}';

/** A task acquired at version 1 by w1, set up without the CLI. */
async function createAcquired(id: string): Promise<void> {
  const action = { kind: "promise.create", head: { corrId: "c", version: "2026-04-01" },
    data: { id, timeoutAt: Date.now() + 3_600_000, tags: { "resonate:target": "poll://any@nobody" } } };
  expect((await post(env.url, "task.create", { pid: "w1", ttl: 60_000, action })).status).toBe(200);
}

describe("resonate tasks", () => {
  it("drives a task through its life: create, heartbeat, release, claim, fence, suspend, resume, halt, continue, complete", async () => {
    const created = await cli(["tasks", "create", "job", "--pid", "w1", "--ttl", "1m", "--timeout", "1h", "--tags", TARGET, "--param", "[1,2]", ...S()]);
    expect(created.code).toBe(0);
    expect(created.stdout).toMatch(/state:\s+acquired/);
    expect(created.stdout).toMatch(/version:\s+1/);
    expect(created.stdout).toMatch(/pid:\s+w1/);
    expect(created.stdout).toMatch(/ttl:\s+1m/);
    expect(created.stdout).toMatch(/promise:\s+job \(pending\)/);

    const heartbeat = await cli(["tasks", "heartbeat", "--pid", "w1", "--tasks", '[{"id":"job","version":1}]', ...S()]);
    expect(heartbeat).toMatchObject({ code: 0, stdout: "heartbeat sent for w1\n" });

    expect((await cli(["tasks", "release", "job", "--version", "1", ...S()])).stdout).toBe("task job released\n");

    const claimed = await cliJson(["task", "claim", "job", "--pid", "w2", "--version", "1", "--ttl", "30s", ...S()]);
    expect(claimed.task).toMatchObject({ id: "job", state: "acquired", version: 2, pid: "w2", ttl: 30_000 });
    expect(claimed.promise.id).toBe("job");
    expect(claimed.preload).toEqual([]);

    const fenced = await cli([
      "tasks", "fence", "job", "--version", "2",
      "--action", '{"kind":"promise.create","data":{"id":"job.0","timeoutAt":9999999999999,"tags":{"resonate:parent":"job"}}}', ...S(),
    ]);
    expect(fenced.code).toBe(0);
    expect(fenced.stdout).toContain("fenced promise.create: 200");
    expect(fenced.stdout).toMatch(/id:\s+job\.0/);

    const suspended = await cli(["tasks", "suspend", "job", "--version", "2", "--awaited", "job.0", ...S()]);
    expect(suspended.stdout).toBe("task job suspended\n");
    expect((await cliJson(["tasks", "get", "job", ...S()])).task).toMatchObject({ state: "suspended", version: 2 });

    await post(env.url, "promise.settle", { id: "job.0", state: "resolved" });
    const search = await cli(["tasks", "search", "--state", "pending", ...S()]);
    expect(search.stdout).toMatch(/^ID\s+STATE\s+VERSION\s+RESUMES\s+PID\s+TTL\n/);
    expect(search.stdout).toMatch(/job\s+pending\s+2\s+1/);

    expect((await cli(["tasks", "halt", "job", ...S()])).stdout).toBe("task job halted\n");
    expect((await cliJson(["tasks", "search", "--state", "halted", ...S()])).tasks.map((t: { id: string }) => t.id)).toEqual(["job"]);
    expect((await cli(["tasks", "continue", "job", ...S()])).stdout).toBe("task job continued\n");

    await cliJson(["tasks", "acquire", "job", "--pid", "w3", "--version", "2", "--ttl", "1m", ...S()]);
    const completed = await cliJson(["tasks", "complete", "job", "--version", "3", "--value", '{"sum":3}', ...S()]);
    expect(completed.promise.state).toBe("resolved");
    expect(decodeData(completed.promise.value.data)).toEqual({ sum: 3 });
    expect((await cliJson(["tasks", "get", "job", ...S()])).task.state).toBe("fulfilled");
  });

  it("suspend answers 300 when an awaited promise is already settled; complete takes a raw --action", async () => {
    await createAcquired("job2");
    await post(env.url, "promise.create", { id: "done", timeoutAt: Date.now() + 3_600_000 });
    await post(env.url, "promise.settle", { id: "done", state: "resolved" });

    const kept = await cli(["tasks", "suspend", "job2", "--version", "1", "--awaited", "done", ...S()]);
    expect(kept.code).toBe(0);
    expect(kept.stdout).toContain("not suspended: an awaited promise is already settled");
    const keptJson = await cliJson(["tasks", "suspend", "job2", "--version", "1", "--actions",
      '[{"kind":"promise.register_callback","data":{"awaited":"done","awaiter":"job2"}}]', ...S()]);
    expect(keptJson.status).toBe(300);
    expect(Array.isArray(keptJson.preload)).toBe(true);

    const completed = await cliJson(["tasks", "fulfill", "job2", "--version", "1", "--action",
      '{"kind":"promise.settle","data":{"id":"job2","state":"rejected","value":{"data":"boom"}}}', ...S()]);
    expect(completed.promise.state).toBe("rejected");
  });

  it("reports protocol conflicts as the server says them", async () => {
    await createAcquired("job3");
    const stale = await cli(["tasks", "release", "job3", "--version", "7", ...S()]);
    expect(stale.code).toBe(1);
    expect(stale.stderr).toBe("error: 409 Task version mismatch or invalid state\n");
    const usage = await cli(["tasks", "suspend", "job3", "--version", "1", ...S()]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toBe("error: give either --awaited <ids...> or --actions <json>\n");
  });
});
